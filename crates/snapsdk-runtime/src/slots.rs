//! The cap on a client's requests in flight: one [`Slot`] per request,
//! returned when dropped (a streamed body keeps its slot until it is done).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// The cap on requests in flight. Taking and returning a slot is one atomic
/// operation each when there is room; callers that find none wait on a
/// `Notify`, and a cancelled waiter passes its wake-up on.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    used: AtomicUsize,
    waiting: AtomicUsize,
    notify: Notify,
}

/// A slot, returned when dropped (a streamed body keeps it until it is done).
#[derive(Debug)]
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::SeqCst);
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            self.0.notify.notify_one();
        }
    }
}

impl Slots {
    pub(crate) fn new(max: usize) -> Self {
        Slots {
            max,
            used: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            notify: Notify::new(),
        }
    }

    pub(crate) fn try_take(this: &Arc<Self>) -> Option<Slot> {
        this.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < this.max).then_some(n + 1))
            .ok()
            .map(|_| Slot(this.clone()))
    }

    pub(crate) async fn take(this: &Arc<Self>) -> Slot {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        this.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&this.waiting);
        loop {
            let mut notified = std::pin::pin!(this.notify.notified());
            // Registered before the check, so a slot returned after it wakes us.
            notified.as_mut().enable();
            if let Some(slot) = Self::try_take(this) {
                return slot;
            }
            notified.await;
        }
    }
}
