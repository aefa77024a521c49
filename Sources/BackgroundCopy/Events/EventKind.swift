/// What an event row records. The raw values are the `events.kind` values in the schema.
public enum EventKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A group was created.
    case groupCreated
    /// A group was changed: suspended, resumed, switched to foreground, its properties, jobs or files.
    case modified
    /// Every file of the group is complete.
    case groupComplete
    /// A file failed and put the group in error.
    case groupError
    /// Every file of a job is complete.
    case jobComplete
    /// One file is complete at its local path.
    case fileComplete
    /// A durable progress checkpoint of a file.
    case progress
    /// A job was cancelled (its complete files retained, the rest discarded).
    case jobCancelled
    /// The group was cancelled (its complete files retained, the rest discarded).
    case cancelled
    /// A group's ``NotifyCommand`` ran for one of its `groupComplete` or `groupError` events (or
    /// could not start). ``QueueEvent/detail`` says how it ended, after the triggering event's
    /// sequence: `event 42: exit 0`, `event 42: signal 9`, `event 42: timed out after 300.0 seconds, killed`,
    /// `event 42: did not start: No such file or directory (errno 2)`.
    case notifyCommandFinished

    /// The notify flag that lets observers hear this kind of event.
    public var notifyFlag: NotifyFlags {
        switch self {
        case .groupComplete: .groupDone
        case .groupError: .error
        case .jobComplete: .jobDone
        case .fileComplete: .fileDone
        case .progress: .progress
        case .groupCreated, .modified, .jobCancelled, .cancelled, .notifyCommandFinished: .modification
        }
    }
}
