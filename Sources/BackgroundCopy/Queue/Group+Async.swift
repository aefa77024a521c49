/// The `async` forms of ``Group``'s calls: the same transactions, suspending instead of blocking
/// while they wait for the writer's commit or a reader.
extension Group {
    /// The group's properties (QMGR: GetProp).
    /// - Throws: `notFound` if the group was cancelled.
    public func properties() async throws(QueueError) -> GroupProperties {
        try await core.store.read { [id] db throws(QueueError) in try db.groupProperties(id) }
    }

    /// Replaces the group's properties after validating all of them (QMGR: SetProp).
    /// - Throws: `invalidArgument` naming the first bad value (nothing is written); `notFound`.
    public func setProperties(_ properties: GroupProperties) async throws(QueueError) {
        try core.validator.validate(properties)
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.setGroupProperties(id, properties, at: now) }
    }

    /// Progress over every file of every live job of the group (QMGR: GetProgress).
    public func progress() async throws(QueueError) -> TransferProgress {
        try await core.store.read { [id] db throws(QueueError) in try db.groupProgress(id) }
    }

    /// The group's state, QMGR status flags, current job and last error (QMGR: GetStatus).
    public func status() async throws(QueueError) -> GroupStatus {
        try await core.store.read { [id] db throws(QueueError) in try db.groupStatus(id) }
    }

    /// Stops the group's transfers; partial bytes are kept (QMGR: SuspendGroup).
    /// - Throws: `notFound` if the group was cancelled.
    public func suspend() async throws(QueueError) {
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.suspendGroup(id, at: now) }
    }

    /// Queues the group for transfer, clearing an error (QMGR: ResumeGroup).
    /// - Throws: `empty` if no file is left to transfer; `notFound`.
    public func resume() async throws(QueueError) {
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.resumeGroup(id, at: now) }
    }

    /// Makes the group a foreground group from now on (QMGR: SwitchToForeground).
    /// - Throws: `notFound` if the group was cancelled.
    public func switchToForeground() async throws(QueueError) {
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.switchGroupToForeground(id, at: now) }
    }

    /// Removes the group from the queue in one transaction, keeping complete files (QMGR: CancelGroup).
    /// - Throws: `notFound` if the group is unknown or already cancelled.
    public func cancel() async throws(QueueError) {
        let now = core.now()
        let outcome = try await core.store.write { [id, core] db throws(QueueError) in
            let outcome = try db.cancelGroup(id, at: now)
            if Mutant.unlinkBeforeCancelCommit.isActive { _ = FileEffect.apply(outcome.effects, core: core) }
            return outcome
        }
        cancelled(outcome)
    }

    /// Adds a new, empty job at the end of the group (QMGR: CreateJob).
    /// - Throws: `alreadyExists` if any job, live or cancelled, has `id`; `notFound`.
    @discardableResult
    public func createJob(id jobID: JobID? = nil) async throws(QueueError) -> Job {
        let jobID = jobID ?? JobID()
        let now = core.now()
        try await core.store.write { [id] db throws(QueueError) in try db.createJob(jobID, in: id, at: now) }
        return Job(id: jobID, group: id, core: core)
    }

    /// Opens a live job of this group (QMGR: GetJob).
    /// - Throws: `notFound` if the group has no live job with `id`, or the group was cancelled.
    public func job(_ jobID: JobID) async throws(QueueError) -> Job {
        try await core.store.read { [id] db throws(QueueError) in _ = try db.liveJob(group: id, job: jobID) }
        return Job(id: jobID, group: id, core: core)
    }

    /// The group's live jobs in creation order, as a snapshot taken now (QMGR: EnumJobs).
    /// - Throws: `notFound` if the group was cancelled.
    public func jobs() async throws(QueueError) -> [Job] {
        try await core.store.read { [id] db throws(QueueError) in try db.liveJobIDs(in: id) }.map { Job(id: $0, group: id, core: core) }
    }
}
