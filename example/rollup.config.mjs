import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

export default {
  input: 'src/main.ts',
  // One file: the plugin's web implementation is loaded with a dynamic import.
  output: { file: 'www/main.js', format: 'es', inlineDynamicImports: true },
  plugins: [
    resolve(),
    // rootDir '..': tsconfig's paths point at the plugin's sources in this repository.
    typescript({ tsconfig: './tsconfig.json', noEmit: false, outDir: 'www', rootDir: '..' }),
  ],
};
