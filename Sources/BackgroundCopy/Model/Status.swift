/// Progress over a set of files: a group's (all its jobs) or a job's (QMGR: GetProgress).
///
/// Counts have no 4 GiB cap. ``bytesTotal`` sums each file's known size (the server's, else its
/// size hint); files with neither are counted in ``filesOfUnknownSize``.
public struct TransferProgress: Sendable, Hashable {
    /// Bytes durably transferred. QM_PROGRESS_SIZE_DONE.
    public let bytesDone: UInt64
    /// Total bytes of the files whose size is known.
    public let bytesTotal: UInt64
    /// Files complete.
    public let filesDone: Int
    /// Files in all.
    public let filesTotal: Int
    /// Files whose size is not known yet.
    public let filesOfUnknownSize: Int

    /// Percent done, 0 to 100 (QM_PROGRESS_PERCENT_DONE): by bytes when every size is known, else by files.
    /// An empty set is 0 percent done.
    public var percent: Int {
        if filesTotal > 0 && filesDone == filesTotal { return 100 }
        if filesOfUnknownSize == 0 && bytesTotal > 0 {
            return min(99, Int(Double(bytesDone) * 100 / Double(bytesTotal)))
        }
        return filesTotal == 0 ? 0 : filesDone * 100 / filesTotal
    }
}

/// Why a group or job last failed (QMGR: the error part of GetStatus / OnStatus).
public struct TransferFailure: Sendable, Hashable {
    /// The error, with its code and message.
    public let error: QueueError
    /// The zero-based index of the failing file within its job, if a file failed.
    public let fileIndex: Int?
    /// How many times the transfer was retried before it failed.
    public let retries: Int
}

/// A group's status (QMGR: IBackgroundCopyGroup::GetStatus).
public struct GroupStatus: Sendable, Hashable {
    /// The group's state.
    public let state: GroupState
    /// QM_STATUS_GROUP_* flags derived from the state and priority.
    public let flags: StatusFlags
    /// Zero-based index of the first job with work left, in creation order; `nil` if none has.
    public let currentJobIndex: Int?
    /// The last failure, while the group is in error.
    public let lastError: TransferFailure?
    /// How many times the group has gone into error.
    public let errorCount: Int
}

/// A job's status (QMGR: IBackgroundCopyJob1::GetStatus).
public struct JobStatus: Sendable, Hashable {
    /// QM_STATUS_JOB_* and QM_STATUS_FILE_* flags.
    public let flags: StatusFlags
    /// Zero-based index of the first file with work left; `nil` when every file is complete.
    public let currentFileIndex: Int?
    /// The last failure, if the job's group is in error because of one of this job's files.
    public let lastError: TransferFailure?
}
