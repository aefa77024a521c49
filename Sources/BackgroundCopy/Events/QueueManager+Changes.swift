extension QueueManager {
    /// A wake-up after each commit this process makes to the queue — the engine's own transfer
    /// steps included — and one every `interval` regardless, since other processes' commits are
    /// not announced: what a progress display iterates to redraw as soon as something changes
    /// rather than at its next tick. Wake-ups that come while nobody takes them are coalesced into
    /// one. The stream ends when its consumer stops iterating or the queue closes.
    ///
    /// QMGR had no counterpart: its callers polled `GetProgress`.
    public func changes(orEvery interval: Duration) -> AsyncStream<Void> {
        core.store.wakeups(every: interval, includingQuiet: true)
    }
}
