package androidx.annotation;

import java.lang.annotation.*;

/** https://developer.android.com/reference/androidx/annotation/NonNull */
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.PARAMETER, ElementType.FIELD, ElementType.LOCAL_VARIABLE, ElementType.ANNOTATION_TYPE, ElementType.PACKAGE})
public @interface NonNull {}
