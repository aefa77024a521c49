extension Group {
    /// Stops the group's transfers; partial bytes are kept (QMGR: SuspendGroup).
    ///
    /// A no-op on a group that is already suspended, complete or in error.
    /// - Throws: `notFound` if the group was cancelled.
    public func suspend() throws(QueueError) {
        let now = core.now()
        try core.store.write { [id] db throws(QueueError) in try db.suspendGroup(id, at: now) }
    }

    /// Queues the group for transfer; a group in error has its error cleared and its failed files
    /// retried (QMGR: ResumeGroup). A no-op on a group that is already queued or transferring.
    ///
    /// - Throws: `empty` if no file is left to transfer (the group stays as it is); `notFound`.
    public func resume() throws(QueueError) {
        let now = core.now()
        try core.store.write { [id] db throws(QueueError) in try db.resumeGroup(id, at: now) }
    }

    /// Makes the group a foreground group from now on; there is no way back except
    /// ``setProperties(_:)-4i4lg`` (QMGR: SwitchToForeground).
    ///
    /// - Throws: `notFound` if the group was cancelled.
    public func switchToForeground() throws(QueueError) {
        let now = core.now()
        try core.store.write { [id] db throws(QueueError) in try db.switchGroupToForeground(id, at: now) }
    }

    /// Removes the group from the queue, in one transaction (QMGR: CancelGroup).
    ///
    /// Files complete before the call become `retained` and stay at their local paths untouched;
    /// incomplete files become `discarded`; the group and its jobs become a tombstone that no lookup
    /// returns and whose ID is never reused; a `cancelled` event is recorded. Temp files are
    /// removed after the commit (and by the next open if the process dies first).
    ///
    /// - Throws: `notFound` if the group is unknown or already cancelled.
    public func cancel() throws(QueueError) {
        let now = core.now()
        let outcome = try core.store.write { [id, core] db throws(QueueError) in
            let outcome = try db.cancelGroup(id, at: now)
            if Mutant.unlinkBeforeCancelCommit.isActive { Reconciler(core: core).apply(outcome.effects) }
            return outcome
        }
        cancelled(outcome)
    }

    /// After a cancel committed: removes its temp files and logs it.
    func cancelled(_ outcome: Cancellation.Outcome) {
        Reconciler(core: core).apply(outcome.effects)
        core.logger.debug("group cancelled", metadata: ["group": "\(id)", "files": "\(outcome.summary)"])
    }
}
