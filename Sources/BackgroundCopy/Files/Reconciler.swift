#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one owner of temp files (DESIGN.md, Architecture and Durability steps 4–5): it applies the
/// file-system effects that follow a committed cancel, removes the temp file of a file that failed
/// for good, and makes the file system agree with the database when a queue is opened or an engine
/// starts.
///
/// Recovery never aborts an open: a temp file it cannot inspect or repair (a symbolic link, a
/// directory, a path it may not read) puts its file in `error` and its group in `error` with a
/// message naming the path, and every other file, group and command keeps working. Only a failing
/// database stops it. Every step is idempotent: running recovery twice changes nothing the second
/// time.
struct Reconciler {
    let core: QueueCore

    var fileSystem: any FileSystem { core.fileSystem }

    // MARK: After a commit

    /// Applies every effect, then fsyncs each directory touched once. Returns the row IDs of the
    /// files whose effect is done; failures are logged and left for recovery at the next open.
    @discardableResult
    func apply(_ effects: [FileEffect]) -> [Int64] {
        TempFiles(fileSystem: fileSystem, logger: core.logger).apply(effects)
    }

    // MARK: Recovery on open

    /// Recovery when a queue is opened: finishes the clean-ups of cancelled files; when no engine
    /// runs on the database (`transfers`), also puts interrupted transfers back in order.
    func recoverOnOpen(transfers: Bool) throws(QueueError) {
        try finishCancelledFiles()
        if transfers { try recoverTransfers() }
    }

    /// Finishes what a cancel's post-commit clean-up did not get to: removes the temp files of
    /// `discarded` files and completes the rename of files cancelled while `finalizing`; then clears
    /// their `temp_path` so the work is not repeated. A clean-up that fails is logged and tried
    /// again at the next open; the group is a tombstone, so nothing else waits for it.
    func finishCancelledFiles() throws(QueueError) {
        let effects = try core.store.read { db throws(QueueError) in try db.cancelledFileEffects() }
        guard !effects.isEmpty else { return }
        let done = apply(effects)
        guard !done.isEmpty else { return }
        try core.store.write { db throws(QueueError) in try db.clearTempPaths(done) }
        core.logger.info("recovery finished file clean-ups", metadata: ["files": "\(done.count)"])
    }

    /// Puts interrupted transfers back in order when no engine is running (DESIGN.md, Durability
    /// step 5): `finalizing` files are rolled forward when their verified bytes are on disk (temp at
    /// full size, or already renamed) and back to the start otherwise; `transferring` files return
    /// to `queued` with their committed bytes; every waiting file's temp file is cut back to its
    /// committed bytes (what lies beyond was never acknowledged and may be garbage after a power
    /// loss), or its progress reset if the temp file holds less; transferring groups with nothing
    /// in flight wait as `queued`.
    func recoverTransfers() throws(QueueError) {
        let finalizing = try core.store.read { db throws(QueueError) in try db.finalizingFiles() }
        for file in finalizing {
            do throws(QueueError) {
                try settleFinalizing(file)
            } catch let error where error.code != .storage {
                try quarantine(file.id, path: file.temp ?? file.local, error)
            }
        }
        try core.store.write { db throws(QueueError) in try db.requeueInterruptedTransfers() }
        try trimTemps()
    }

    private func settleFinalizing(_ file: Connection.FinalizingFile) throws(QueueError) {
        let ledger = TransferLedger(core: core)
        let kind = try file.temp.flatMap { path throws(QueueError) in try fileSystem.kind(of: path) }
        if let path = file.temp, kind != nil, kind != .regular {
            throw QueueError(
                .fileSystem, "temp file \(path) is \(Self.describe(kind)), not a regular file; it was left as it is",
                value: path, systemError: kind == .directory ? EISDIR : ELOOP)
        }
        let temp = try file.temp.flatMap { path throws(QueueError) in try fileSystem.metadata(of: path) }
        if let path = file.temp, let temp, let total = file.total, temp.size == UInt64(total) {
            try publish(path)
            try fileSystem.rename(path, to: file.local)
            try fileSystem.fsyncDirectory(file.local.parentDirectory)
            try ledger.complete(file.id)
        } else if temp == nil, try fileSystem.kind(of: file.local) == .regular {
            try ledger.complete(file.id)
        } else {
            try core.store.write { db throws(QueueError) in try db.restartFile(file.id) }
        }
    }

    /// Cuts every waiting file's temp file back to its committed bytes. A temp file that is not a
    /// regular file, or cannot be inspected or cut, puts its file and group in error (once: a file
    /// already in error is left as it is).
    private func trimTemps() throws(QueueError) {
        let waiting = try core.store.read { db throws(QueueError) in try db.waitingTemps() }
        for file in waiting {
            do throws(QueueError) {
                try trim(file.id, temp: file.temp, committed: file.done)
            } catch let error where error.code != .storage {
                if file.failed {
                    core.logger.info("temp file of a failed file left as it is", metadata: ["error": "\(error)"])
                } else {
                    try quarantine(file.id, path: file.temp, error)
                }
            }
        }
    }

    private func trim(_ fileRowID: Int64, temp path: String, committed: UInt64) throws(QueueError) {
        let kind = try fileSystem.kind(of: path)
        guard kind == nil || kind == .regular else {
            throw QueueError(
                .fileSystem, "temp file \(path) is \(Self.describe(kind)), not a regular file; it was left as it is",
                value: path, systemError: kind == .directory ? EISDIR : ELOOP)
        }
        let size = try fileSystem.metadata(of: path)?.size
        if let size, Mutant.trustTempLength.isActive, size > committed {
            try setProgress(fileRowID, size)
        } else if let size, size > committed {
            let temp = try fileSystem.open(path, exclusive: false)
            defer { fileSystem.close(temp) }
            try fileSystem.truncate(temp, to: committed)
            try fileSystem.fsync(temp)
        } else if (size ?? 0) < committed {
            try setProgress(fileRowID, 0)
        }
    }

    private func setProgress(_ fileRowID: Int64, _ bytes: UInt64) throws(QueueError) {
        try core.store.write { db throws(QueueError) in try db.setCommittedBytes(fileRowID, bytes) }
    }

    /// Puts a file whose temp file recovery could not repair in `error`, and its group (unless
    /// cancelled) in `error` with the failure naming `path`, recorded as a `groupError` event.
    private func quarantine(_ fileRowID: Int64, path: String, _ error: QueueError) throws(QueueError) {
        let message = error.message.contains(path) ? error.message : "\(path): \(error.message)"
        let now = core.now()
        core.logger.info("recovery could not repair a temp file; its group is in error", metadata: ["error": "\(message)"])
        try core.store.write { db throws(QueueError) in
            try db.quarantine(fileRowID, message: message, systemError: error.systemError, at: now)
        }
    }

    /// Gives a verified temp file, about to be renamed into place, the mode of a new file.
    private func publish(_ temp: String) throws(QueueError) {
        try TempFiles(fileSystem: fileSystem, logger: core.logger).publish(temp)
    }

    private static func describe(_ kind: FileKind?) -> String {
        switch kind {
        case .symbolicLink: "a symbolic link"
        case .directory: "a directory"
        case .regular: "a regular file"
        case .other, nil: "a special file"
        }
    }
}
