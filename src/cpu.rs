//! CPU-heavy work on untrusted input, off the async workers (issue #8 §1).
//!
//! Signature verification and decryption of a stranger's message run on tokio's blocking pool,
//! at most twice the cores (at least four) at a time, and a caller waits at most [`TIME_LIMIT`] for a slot and
//! the result. A slow or hostile message therefore never stalls the workers that serve other
//! logins; when the limit passes, the caller gets [`CpuError::TimedOut`] while the work finishes
//! in the background still holding its slot, so a flood of slow messages exhausts only the slots,
//! never the workers.

use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a caller waits for a slot and the work together.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// The slots: twice the cores, at least four (a verification takes about a millisecond).
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new((cores * 2).max(4))
    })
}

/// Why off-worker work did not produce a result.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CpuError {
    /// The work (with its wait for a slot) took longer than the limit.
    #[error("checking the message took longer than {seconds} s; chsim gave up (the server may be overloaded, or the message is built to be slow)")]
    TimedOut {
        /// The limit in seconds.
        seconds: u64,
    },
    /// The work panicked or was cancelled (a bug in chsim; the server goes on).
    #[error("checking the message failed inside chsim: {reason}")]
    Failed {
        /// What tokio reported.
        reason: String,
    },
}

/// Runs `work` on the blocking pool within the slot and time bounds.
pub async fn run<T, F>(work: F) -> Result<T, CpuError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    run_within(TIME_LIMIT, work).await
}

/// [`run`] with another time limit.
async fn run_within<T, F>(limit: Duration, work: F) -> Result<T, CpuError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let timed_out = || CpuError::TimedOut {
        seconds: limit.as_secs(),
    };
    let deadline = tokio::time::Instant::now() + limit;
    let permit = tokio::time::timeout_at(deadline, slots().acquire())
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| CpuError::Failed {
            reason: e.to_string(),
        })?;
    let handle = tokio::task::spawn_blocking(move || {
        // The slot is held until the work really ends, not until the caller stops waiting.
        let _permit = permit;
        work()
    });
    match tokio::time::timeout_at(deadline, handle).await {
        Err(_) => Err(timed_out()),
        Ok(Err(e)) => Err(CpuError::Failed {
            reason: e.to_string(),
        }),
        Ok(Ok(value)) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_and_returns_its_value() {
        assert_eq!(run(|| 40 + 2).await, Ok(42));
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_not_a_crash() {
        #[allow(clippy::panic)]
        let result: Result<(), _> = run(|| panic!("boom")).await;
        assert!(matches!(result, Err(CpuError::Failed { .. })));
    }

    #[tokio::test]
    async fn work_past_the_limit_is_given_up_with_a_clear_error() {
        let result = run_within(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(400))
        })
        .await;
        assert_eq!(result, Err(CpuError::TimedOut { seconds: 0 }));
        // The caller was answered; the pool still serves others.
        assert_eq!(run(|| 7).await, Ok(7));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn slow_work_does_not_block_the_async_worker() {
        // On a single-threaded runtime, a timer still fires while the work sleeps elsewhere.
        let slow = tokio::spawn(run(|| std::thread::sleep(Duration::from_millis(300))));
        let started = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(started.elapsed() < Duration::from_millis(250));
        slow.await.unwrap().unwrap();
    }
}
