/// The state of a group. New groups are `suspended`; ``Group/resume()-3f7qu`` queues them; the engine
/// moves them to `transferring` and then `complete` or `error`, both of which are suspended again.
/// `cancelled` is final and never visible through the API: a cancelled group is a tombstone.
public enum GroupState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Not transferring; the initial state. QMGR: QM_STATUS_GROUP_SUSPENDED.
    case suspended
    /// Resumed and waiting for the engine.
    case queued
    /// The engine is transferring one of its files.
    case transferring
    /// Every file is complete; auto-suspended. QMGR: QM_STATUS_GROUP_COMPLETE.
    case complete
    /// A file failed permanently; auto-suspended until resumed. QMGR: QM_STATUS_GROUP_ERROR.
    case error
    /// Cancelled: a tombstone that no lookup returns and whose ID is never reused.
    case cancelled
}

/// The state of one file of a job.
public enum FileState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting to transfer (possibly with committed partial bytes).
    case queued
    /// Being transferred; its temp file exists beside the local path.
    case transferring
    /// Verified and about to be renamed into place (the durable intent of step 3 of the protocol).
    case finalizing
    /// At its local path, complete.
    case complete
    /// Was complete when its group or job was cancelled: left at its local path, untouched.
    case retained
    /// Was incomplete when its group or job was cancelled: partial bytes removed.
    case discarded
    /// Failed permanently; its job waits until the group is resumed.
    case error

    /// Whether the file has left the queue (its group or job was cancelled).
    var isCancelled: Bool { self == .retained || self == .discarded }
}

/// A group's priority. Foreground groups transfer first and all at once; background groups
/// (high, normal, low) one at a time, in this order. QMGR allowed only one value; BITS added these four.
public enum Priority: Int, Sendable, Hashable, CaseIterable, Codable, Comparable, CustomStringConvertible {
    /// Transfer now, concurrently with other foreground groups, never throttled.
    case foreground = 0
    /// The first background priority.
    case high = 1
    /// The default background priority.
    case normal = 2
    /// The last background priority.
    case low = 3

    /// Foreground sorts first, low last: the order the scheduler serves them in.
    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The lowercase name: `foreground`, `high`, `normal`, `low`.
    public var description: String {
        switch self {
        case .foreground: "foreground"
        case .high: "high"
        case .normal: "normal"
        case .low: "low"
        }
    }
}
