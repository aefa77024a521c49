import Foundation

/// Seeded bugs the crash harness must catch (Tests/CrashRecoveryTests): each breaks one step of
/// the durability protocol. Only debug builds read `BGCOPY_MUTANT`; a release build has none active.
package enum Mutant: String, CaseIterable, Sendable {
    /// A checkpoint commits its byte count without fsyncing the temp file first.
    case skipCheckpointFsync = "skip-checkpoint-fsync"
    /// The rename of a complete file into place is not followed by a directory fsync.
    case skipRenameDirectoryFsync = "skip-rename-directory-fsync"
    /// A rename's directory fsync is taken as done when an earlier fsync of the same directory
    /// has finished: `complete` is committed before any directory fsync covers the rename.
    case sharedDirsyncSkipped = "shared-dirsync-skipped"
    /// `complete` is committed before the temp file is renamed into place.
    case completeBeforeRename = "complete-before-rename"
    /// A cancel unlinks the temp files before its transaction commits.
    case unlinkBeforeCancelCommit = "unlink-before-cancel-commit"
    /// `durability: .full` runs with `synchronous=NORMAL`.
    case relaxedSynchronous = "relaxed-synchronous"
    /// A resumed transfer trusts the temp file's length instead of the committed byte count.
    case trustTempLength = "trust-temp-length"
    /// Opening the queue does not fsync the database's directory.
    case skipDatabaseDirectoryFsync = "skip-database-directory-fsync"
    /// Group commit tells each caller its call succeeded before the batch's `COMMIT`.
    case ackBeforeCommit = "ack-before-commit"
    /// Group commit keeps the writes of a call whose body threw: no `ROLLBACK TO` its savepoint,
    /// and no rollback of the batch when the batch's first call (which runs without one) throws.
    case savepointLeak = "savepoint-leak"
    /// PostgreSQL: a commit about a leased file ignores the fencing token — any host that ever
    /// held the file's lease may still checkpoint, finalize, complete, fail or release it.
    case noFencing = "no-fencing"

    /// The mutant switched on for this process, if any.
    static let active: Mutant? = {
        #if DEBUG
        return ProcessInfo.processInfo.environment["BGCOPY_MUTANT"].flatMap(Mutant.init(rawValue:))
        #else
        return nil
        #endif
    }()

    /// Whether this mutant is switched on.
    var isActive: Bool { Mutant.active == self }
}
