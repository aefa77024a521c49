#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension TransferWorker {
    /// A transfer failed: stop, wait for a retry, or fail the file, as the error says. Every store
    /// step waits out a busy or full database; this throws only when the engine stops meanwhile.
    /// Returns how the attempt ended.
    @discardableResult
    func handle(_ error: QueueError, sink: TransferSink?, file: OpenFile?) async throws(QueueError) -> TransferOutcome {
        let held = sink?.position.offset ?? 0
        if error == TransferSink.stopped {
            // Keep what is on disk: fsync it and hand the file back with that count. If the file
            // was cancelled — possibly before this worker created its temp file, after the cancel's
            // own clean-up ran — remove the temp file now rather than at the next open.
            let synced = file.map { (try? fileSystem.fsync($0)) != nil } ?? false  // unsynced: the bytes are not committed (Durability 8)
            let state = try await context.patiently("release") { () async throws(QueueError) -> FileState? in
                try await context.ledger.release(claim.fileRowID, bytesDone: synced && sink != nil ? held : nil)
            }
            if state == .discarded { removeTemp() }
            return .stopped
        }
        if error.isPassingStorageFailure {
            // The database, not the transfer, failed: wait and try again, whatever the no-progress
            // timeout says. What was written beyond the last checkpoint is cut off next time.
            let wait = try await context.patiently("retry later") { () async throws(QueueError) -> Duration? in
                try await context.ledger.retryLater(claim.fileRowID, error: error) { retries in
                    context.retryDelay(groupDelayMilliseconds: 0, retries: retries, serverAsked: nil)
                }
            }
            if let wait {
                context.logger.info(
                    "database failure during a transfer, will retry",
                    metadata: ["file": "\(claim.local)", "in": "\(wait)", "error": "\(error)"])
            }
            return .retry
        }
        if error.code == .validationFailed {
            try await discardProgress()
            if let file { try? fileSystem.truncate(file, to: 0) }  // progress is already discarded; recovery cuts the temp file again
            let outcome = try await settle(error)
            if file != nil { removeTemp() }
            return outcome
        }
        if let code = error.systemError, Self.noSpace.contains(code) {
            // Out of room (refused before the disk filled, or the disk filled): give the space back.
            try await discardProgress()
            let outcome = try await settle(error)
            if file != nil { removeTemp() }
            return outcome
        }
        // A network failure keeps the bytes received so far. A failed fsync is never retried
        // (DESIGN.md, Durability 7): the next attempt cuts the temp file back to the last checkpoint.
        if error.code == .transfer, error.isTransient, let sink, let file, (try? fileSystem.fsync(file)) != nil {  // unsynced: no checkpoint
            do throws(QueueError) {
                try await sink.commit(bytes: nil, sync: false)
            } catch let error where error == TransferSink.stopped {
                // cancelled or suspended meanwhile: settle finds the file no longer claimed
            }
        }
        let outcome = try await settle(error)
        if outcome == .failed, held == 0, file != nil {
            removeTemp()  // failed for good with nothing in it (a 404, say): nothing to keep in the user's directory
        }
        return outcome
    }

    /// Records a failure that needs no file clean-up: a transient one waits for a retry unless the
    /// group has made no progress for its no-progress timeout; anything else fails the file.
    /// Returns `retry` if the file waits for one, `failed` if it failed for good, `stopped` if it
    /// was no longer the engine's.
    private func settle(_ error: QueueError) async throws(QueueError) -> TransferOutcome {
        if Self.isTransient(error) {
            let (progressAt, timeout, delay) = try await context.patiently("read progress") { () async throws(QueueError) in
                try await context.ledger.lastProgress(ofGroup: claim.groupRowID)
            }
            let now = context.now()
            if timeout > 0, now - (progressAt ?? now) < timeout {
                let waited = try await context.patiently("retry later") { () async throws(QueueError) -> Duration? in
                    try await context.ledger.retryLater(claim.fileRowID, error: error) { retries in
                        context.retryDelay(groupDelayMilliseconds: delay, retries: retries, serverAsked: error.retryAfter)
                    }
                }
                if let waited {
                    context.logger.info(
                        "transient failure, will retry",
                        metadata: ["file": "\(claim.local)", "in": "\(waited)", "error": "\(error.message)"])
                    return .retry
                }
            }
        }
        context.logger.info("file failed", metadata: ["file": "\(claim.local)", "error": "\(error.message)"])
        let failed = try await context.patiently("fail") { () async throws(QueueError) -> Bool in
            try await context.ledger.fail(claim.fileRowID, error: error, retries: claim.retries)
        }
        if !failed {
            // Its group left `transferring` meanwhile (another of its files failed first, or it was
            // suspended): hand the file back as a stopped one, or the group's resume would find it
            // claimed by nobody.
            try await context.patiently("release") { () async throws(QueueError) in
                try await context.ledger.release(claim.fileRowID, bytesDone: nil)
            }
        }
        return failed ? .failed : .stopped
    }

    /// Restarts the file from zero: its bytes proved bad, or are gone.
    func discardProgress() async throws(QueueError) {
        try await context.patiently("discard progress") { () async throws(QueueError) in try await context.ledger.discardProgress(claim.fileRowID) }
    }

    private func removeTemp() {
        TempFiles(fileSystem: fileSystem, logger: context.logger).removeFailedTemp(fileRowID: claim.fileRowID, tempPath: claim.tempPath, localPath: claim.local)
    }

    /// `errno` values that mean the file system has no room for the file.
    static let noSpace: Set<Int32> = [ENOSPC, EDQUOT]

    /// Network-side failures and local I/O errors are worth a retry, except a full or read-only
    /// disk and a local directory that passes through a symbolic link.
    static func isTransient(_ error: QueueError) -> Bool {
        if error.code == .fileSystem {
            guard let code = error.systemError else { return true }
            return !noSpace.contains(code) && code != EROFS && code != ELOOP
        }
        return error.isTransient
    }
}
