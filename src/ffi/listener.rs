//! The foreign [`EventListener`] and [`Logger`] traits, the sink that forwards core events to
//! the listener, and the `log` bridge to the logger. Neither a listener nor a logger that throws
//! can take a core thread down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, RwLock};

use crate::events::{Event, EventSink};

/// Severity of a core log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Receives events. Called on the core's threads: return quickly, hop to the main thread yourself.
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    fn on_event(&self, event: Event);
}

/// Receives the core's log records (Logcat, os_log, the JS console).
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    fn log(&self, level: LogLevel, target: String, message: String);
}

/// Forwards core events to the foreign listener; a listener that throws is logged, not fatal.
pub(crate) struct ListenerSink(pub(crate) Option<Arc<dyn EventListener>>);

impl EventSink for ListenerSink {
    fn on_event(&self, event: Event) {
        let Some(listener) = &self.0 else { return };
        if catch_unwind(AssertUnwindSafe(|| listener.on_event(event))).is_err() {
            log::warn!("the event listener failed (threw or panicked); event dropped");
        }
    }
}

/// Dependencies that may log full URLs (with query tokens) below `warn`.
const NOISY_TARGETS: &[&str] = &["reqwest", "hyper", "hyper_util", "rustls", "h2", "tokio"];

/// The process-wide `log` implementation; installed once, forwards to the current [`Logger`].
struct LogBridge {
    logger: RwLock<Option<Arc<dyn Logger>>>,
}

impl log::Log for LogBridge {
    fn enabled(&self, m: &log::Metadata) -> bool {
        let target = m.target();
        let noisy = NOISY_TARGETS
            .iter()
            .any(|t| target == *t || target.starts_with(&format!("{t}::")));
        !noisy || m.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Some(logger) = self
            .logger
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        else {
            return;
        };
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        let (target, message) = (record.target().to_string(), record.args().to_string());
        // No logging from here on failure: that would recurse into this logger.
        let _ = catch_unwind(AssertUnwindSafe(|| logger.log(level, target, message)));
    }

    fn flush(&self) {}
}

/// The bridge, and whether `log` accepted it as the process's logger.
static LOG_BRIDGE: OnceLock<(&'static LogBridge, bool)> = OnceLock::new();

/// Sends the core's log records at `level` and above to `logger` (process-wide; a later call
/// replaces the logger, `None` stops forwarding). Returns `false` when the process already had
/// another `log` implementation (a Rust host app): that one keeps receiving the records.
#[uniffi::export]
pub fn set_logger(logger: Option<Arc<dyn Logger>>, level: LogLevel) -> bool {
    let (bridge, installed) = *LOG_BRIDGE.get_or_init(|| {
        let bridge: &'static LogBridge = Box::leak(Box::new(LogBridge {
            logger: RwLock::new(None),
        }));
        (bridge, log::set_logger(bridge).is_ok())
    });
    *bridge.logger.write().unwrap_or_else(|p| p.into_inner()) = logger;
    if installed {
        log::set_max_level(match level {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        });
    }
    installed
}
