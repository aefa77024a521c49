/// A group as it stood at one instant: properties, status, progress and its jobs, all read in
/// one read transaction, so the parts agree with each other.
public struct GroupSnapshot: Sendable {
    /// The group's handle.
    public let group: Group
    /// Its properties (as ``Group/properties()-3gsc2``).
    public let properties: GroupProperties
    /// Its status (as ``Group/status()-2drjp``).
    public let status: GroupStatus
    /// Progress over all its live jobs (as ``Group/progress()-7u1ep``).
    public let progress: TransferProgress
    /// Its live jobs in creation order, each with its progress.
    public let jobs: [JobSnapshot]

    /// The group's ID.
    public var id: GroupID { group.id }
}

/// A job within a ``GroupSnapshot``.
public struct JobSnapshot: Sendable {
    /// The job's handle.
    public let job: Job
    /// Progress over the job's files.
    public let progress: TransferProgress
    /// The zero-based index of the first file with work left; `nil` when every file is complete.
    public let currentFileIndex: Int?
}
