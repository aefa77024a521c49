import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Transfers one claimed file through the durable protocol (DESIGN.md, Durability steps 1–3):
/// open or create the temp file, fetch through the transport into a ``TransferSink``, then
/// fsync, verify, record the intent, rename into place, fsync the directory, commit `complete`.
///
/// The local directory is opened once, following no symbolic link, and the temp file is created
/// and renamed relative to that descriptor: a directory swapped for a link is refused, and one
/// moved while the transfer runs still gets the file, never the place the link points to.
struct TransferWorker: Sendable {
    let context: EngineContext
    let claim: Claim
    let throttle: Throttle?

    private var fileSystem: any FileSystem { context.fileSystem }

    /// Runs the transfer to its end: complete, waiting for a retry, failed, or stopped.
    func run() async {
        var file: OpenFile?
        var directory: OpenFile?
        do throws(QueueError) {
            let folder = try fileSystem.openDirectory(claim.local.parentDirectory)
            directory = folder
            let (opened, offset) = try openTemp(in: folder)
            file = opened
            let sink = TransferSink(claim: claim, file: opened, offset: offset, context: context,
                                    throttle: claim.priority == .foreground ? nil : throttle)
            let transport = try context.transport(for: claim.remote)
            let request = TransferRequest(remote: claim.remote, offset: offset, validator: offset > 0 ? claim.validator : nil,
                                          headers: claim.headers, groupID: claim.groupID)
            do throws(QueueError) {
                try await transport.fetch(request, into: sink)
                try finish(sink, file: opened, directory: folder)
            } catch {
                try handle(error, sink: sink, file: opened)
            }
        } catch {
            try? settle(error)
        }
        if let file { fileSystem.close(file) }
        if let directory { fileSystem.close(directory) }
    }

    /// Opens the temp file: an existing one is cut back to the committed bytes (anything after
    /// them was never acknowledged); a missing one is created, and committed bytes start over.
    private func openTemp(in directory: OpenFile) throws(QueueError) -> (OpenFile, UInt64) {
        let name = claim.tempPath.lastComponent
        if let metadata = try fileSystem.metadata(of: claim.tempPath) {
            let file = try fileSystem.open(name, in: directory, exclusive: false)
            guard metadata.size >= claim.bytesDone else {
                try context.ledger.discardProgress(claim.fileRowID)
                try fileSystem.truncate(file, to: 0)
                return (file, 0)
            }
            if Mutant.trustTempLength.isActive { return (file, metadata.size) }
            if metadata.size > claim.bytesDone { try fileSystem.truncate(file, to: claim.bytesDone) }
            return (file, claim.bytesDone)
        }
        if claim.bytesDone > 0 { try context.ledger.discardProgress(claim.fileRowID) }
        let file = try fileSystem.open(name, in: directory, exclusive: true)
        try fileSystem.fsyncDirectory(directory)
        return (file, 0)
    }

    /// Every byte is in: make it durable, check it, and move it into place.
    private func finish(_ sink: TransferSink, file: OpenFile, directory: OpenFile) throws(QueueError) {
        let (held, total, _) = sink.position
        try fileSystem.fsync(file)
        if let total, held != total {
            throw QueueError(.transfer, "\(claim.remote) ended at \(held) of \(total) bytes", value: claim.remote, isTransient: true)
        }
        if let expected = claim.sha256 {
            let actual = try digest(file, length: held)
            guard actual == expected else {
                throw QueueError(.validationFailed, "\(claim.local): SHA-256 is \(actual.hexString), expected \(expected.hexString)",
                                 value: claim.remote)
            }
        }
        guard try context.ledger.beginFinalizing(claim.fileRowID, bytesTotal: held) else { throw TransferSink.stopped }
        if Mutant.completeBeforeRename.isActive { try context.ledger.complete(claim.fileRowID) }
        do throws(QueueError) {
            try fileSystem.rename(claim.tempPath.lastComponent, to: claim.local.lastComponent, in: directory)
        } catch {
            // A cancel committed meanwhile may have finished the rename itself.
            guard error.systemError == ENOENT, try fileSystem.kind(of: claim.local) == .regular else { throw error }
        }
        if !Mutant.skipRenameDirectoryFsync.isActive { try fileSystem.fsyncDirectory(directory) }
        if Mutant.completeBeforeRename.isActive { return }
        do throws(QueueError) {
            try context.ledger.complete(claim.fileRowID)
        } catch where error.code == .invalidState {
            return  // cancelled while finalizing: the file is retained where it now is
        }
        context.logger.debug("file complete", metadata: ["file": "\(claim.local)", "bytes": "\(held)"])
    }

    private func digest(_ file: OpenFile, length: UInt64) throws(QueueError) -> [UInt8] {
        let reader = try fileSystem.openForReading(claim.tempPath)
        defer { fileSystem.close(reader) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while offset < length {
            let count = try fileSystem.read(reader, into: &buffer, at: offset)
            guard count > 0 else { break }
            hasher.update(data: buffer[0..<count])
            offset += UInt64(count)
        }
        return Array(hasher.finalize())
    }

    /// A fetch or finish failed: stop, retry later, or fail the file, as the error says.
    private func handle(_ error: QueueError, sink: TransferSink, file: OpenFile) throws(QueueError) {
        if error == TransferSink.stopped {
            // Keep what is on disk: fsync it and hand the file back with that count. If the file
            // was cancelled — possibly before this worker created its temp file, after the cancel's
            // own clean-up ran — remove the temp file now rather than at the next open.
            let held = sink.position.offset
            let synced = (try? fileSystem.fsync(file)) != nil
            if try context.ledger.release(claim.fileRowID, bytesDone: synced ? held : nil) == .discarded {
                Reconciler(core: context.core).apply([FileEffect(fileRowID: claim.fileRowID, action: .removeTemp,
                                                                 tempPath: claim.tempPath, localPath: claim.local)])
            }
            return
        }
        if error.code == .validationFailed {
            try context.ledger.discardProgress(claim.fileRowID)
            try fileSystem.truncate(file, to: 0)
            return try settle(error)
        }
        if let code = error.systemError, Self.noSpace.contains(code) {
            // Out of room (refused before the disk filled, or the disk filled): give the space back.
            try context.ledger.discardProgress(claim.fileRowID)
            try fileSystem.truncate(file, to: 0)
            try? fileSystem.unlink(claim.tempPath)
            return try settle(error)
        }
        // A network failure keeps the bytes received so far. A failed fsync is never retried
        // (DESIGN.md, Durability 7): the next attempt cuts the temp file back to the last checkpoint.
        if error.code == .transfer, error.isTransient, (try? fileSystem.fsync(file)) != nil {
            _ = try? sink.commit(bytes: nil, sync: false)
        }
        try settle(error)
    }

    /// Records a failure that needs no file clean-up: a transient one waits for a retry unless the
    /// group has made no progress for its no-progress timeout; anything else fails the file.
    private func settle(_ error: QueueError) throws(QueueError) {
        guard error != TransferSink.stopped else {
            try context.ledger.release(claim.fileRowID)
            return
        }
        if Self.isTransient(error) {
            let (progressAt, timeout, delay) = try context.ledger.lastProgress(ofGroup: claim.groupRowID)
            let now = context.core.now()
            if timeout > 0, now - (progressAt ?? now) < timeout {
                let wait = context.retryDelay(groupDelayMilliseconds: delay, retries: claim.retries + 1, serverAsked: error.retryAfter)
                context.logger.info("transient failure, will retry",
                                    metadata: ["file": "\(claim.local)", "in": "\(wait)", "error": "\(error.message)"])
                if try context.ledger.retryLater(claim.fileRowID, error: error, retryAt: now + wait.milliseconds) { return }
            }
        }
        context.logger.warning("file failed", metadata: ["file": "\(claim.local)", "error": "\(error.message)"])
        _ = try context.ledger.fail(claim.fileRowID, error: error, retries: claim.retries)
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
