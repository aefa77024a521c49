/// Which events a group's observers hear about (QMGR: QM_NOTIFY_*; BITS: BG_NOTIFY_*).
///
/// The default is `[.groupDone, .error]`, BITS' TRANSFERRED | ERROR. `disable` silences the group
/// entirely, whatever else is set. Bits outside ``all`` are refused by validation.
public struct NotifyFlags: OptionSet, Sendable, Hashable, Codable {
    /// The flag bits, QMGR's values where QMGR had the flag.
    public let rawValue: UInt32

    /// Flags from raw bits; bits outside ``all`` are refused when the flags are stored.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A file of the group completed. QM_NOTIFY_FILE_DONE (0x01).
    public static let fileDone = NotifyFlags(rawValue: 0x01)
    /// A job of the group completed. QM_NOTIFY_JOB_DONE (0x02).
    public static let jobDone = NotifyFlags(rawValue: 0x02)
    /// The whole group completed. QM_NOTIFY_GROUP_DONE (0x04).
    public static let groupDone = NotifyFlags(rawValue: 0x04)
    /// The group went into error (QMGR reported errors without a flag; BITS: BG_NOTIFY_JOB_ERROR).
    public static let error = NotifyFlags(rawValue: 0x08)
    /// Durable progress checkpoints of the group's files.
    public static let progress = NotifyFlags(rawValue: 0x10)
    /// The group was changed: suspended, resumed, its properties, jobs or files (BG_NOTIFY_JOB_MODIFICATION).
    public static let modification = NotifyFlags(rawValue: 0x20)
    /// No notifications at all for this group. QM_NOTIFY_DISABLE_NOTIFY (0x40).
    public static let disable = NotifyFlags(rawValue: 0x40)

    /// Every defined flag.
    public static let all: NotifyFlags = [.fileDone, .jobDone, .groupDone, .error, .progress, .modification, .disable]
    /// `[.groupDone, .error]`.
    public static let `default`: NotifyFlags = [.groupDone, .error]
}

/// QMGR's status flags (QM_STATUS_*), derived from the state; never stored.
public struct StatusFlags: OptionSet, Sendable, Hashable, Codable {
    /// The QM_STATUS_* bits.
    public let rawValue: UInt32

    /// Flags from raw QM_STATUS_* bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// QM_STATUS_FILE_COMPLETE.
    public static let fileComplete = StatusFlags(rawValue: 0x001)
    /// QM_STATUS_FILE_INCOMPLETE.
    public static let fileIncomplete = StatusFlags(rawValue: 0x002)
    /// QM_STATUS_JOB_COMPLETE.
    public static let jobComplete = StatusFlags(rawValue: 0x004)
    /// QM_STATUS_JOB_INCOMPLETE.
    public static let jobIncomplete = StatusFlags(rawValue: 0x008)
    /// QM_STATUS_JOB_ERROR.
    public static let jobError = StatusFlags(rawValue: 0x010)
    /// QM_STATUS_JOB_FOREGROUND.
    public static let jobForeground = StatusFlags(rawValue: 0x020)
    /// QM_STATUS_GROUP_COMPLETE.
    public static let groupComplete = StatusFlags(rawValue: 0x040)
    /// QM_STATUS_GROUP_INCOMPLETE.
    public static let groupIncomplete = StatusFlags(rawValue: 0x080)
    /// QM_STATUS_GROUP_SUSPENDED.
    public static let groupSuspended = StatusFlags(rawValue: 0x100)
    /// QM_STATUS_GROUP_ERROR.
    public static let groupError = StatusFlags(rawValue: 0x200)
    /// QM_STATUS_GROUP_FOREGROUND.
    public static let groupForeground = StatusFlags(rawValue: 0x400)
}
