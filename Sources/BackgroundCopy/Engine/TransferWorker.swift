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

    var fileSystem: any FileSystem { context.fileSystem }

    /// Runs the transfer to its end: complete, waiting for a retry, failed, or stopped. In a
    /// running engine it never leaves the file claimed: a database that is busy or full is waited
    /// out (``StoragePatience``), and only an engine that stops meanwhile leaves the file
    /// `transferring` for the recovery of the next open or engine start.
    func run() async {
        let observation = await context.observability?.start(claim, ledger: context.ledger)
        var outcome = TransferOutcome.completed
        var file: OpenFile?
        var directory: OpenDirectory?
        var sink: TransferSink?
        var failure: QueueError?
        do throws(QueueError) {
            let folder = try await context.directories.acquire(claim.local.parentDirectory)
            directory = folder
            let (opened, offset) = try await openTemp(in: folder)
            file = opened
            let throttle = claim.priority == .foreground ? nil : self.throttle
            let started = TransferSink(
                claim: claim, file: opened, offset: offset, context: context, throttle: throttle,
                observation: observation)
            sink = started
            let transport = try context.transport(for: claim.remote)
            let request = TransferRequest(
                remote: claim.remote, offset: offset, validator: offset > 0 ? claim.validator : nil,
                headers: claim.headers, groupID: claim.groupID)
            try await started.streaming { () async throws(QueueError) in
                if let watch = LowSpeedWatch(settings: context.settings, throttle: throttle) {
                    try await watch.run(started, remote: claim.remote) { () async throws(QueueError) in
                        try await transport.fetch(request, into: started)
                    }
                } else {
                    try await transport.fetch(request, into: started)
                }
            }
            try await finish(started, file: opened, directory: folder)
        } catch {
            failure = error
        }
        if let failure {
            do throws(QueueError) {
                outcome = try await handle(failure, sink: sink, file: file)
            } catch {
                outcome = .stopped
                context.logger.info(
                    "engine stopped before the failure was recorded; the next start recovers the file",
                    metadata: ["file": "\(claim.local)", "error": "\(error)"])
            }
        }
        if let file { fileSystem.close(file) }
        if let directory { context.directories.release(directory) }
        observation?.finish(outcome, error: failure, bytes: sink?.position.offset ?? claim.bytesDone, received: sink?.received ?? 0)
    }

    /// Opens the temp file: an existing one is cut back to the committed bytes (anything after
    /// them was never acknowledged); a missing one is created, and committed bytes start over.
    /// A step that fails after the open closes the file: the caller gets no descriptor to close.
    private func openTemp(in directory: OpenDirectory) async throws(QueueError) -> (OpenFile, UInt64) {
        let (fileSystem, name, folder) = (fileSystem, claim.tempPath.lastComponent, directory.file)
        // Committed progress without its temp file is reset before a new temp file exists.
        let createAtOnce = claim.bytesDone == 0
        // A file created here has its directory fsynced on the same file thread if no fsync of it
        // is running; else it waits for the next shared one.
        let create = { @Sendable () throws(QueueError) -> (file: OpenFile, synced: Result<Void, QueueError>?) in
            (try fileSystem.open(name, in: folder, exclusive: true), directory.syncIfIdle())
        }
        let (existing, opened, synced) = try await FileThreads.run {
            () throws(QueueError) -> (FileMetadata?, OpenFile?, Result<Void, QueueError>?) in
            if let metadata = try fileSystem.metadata(of: claim.tempPath) {
                return (metadata, try fileSystem.open(name, in: folder, exclusive: false), nil)
            }
            guard createAtOnce else { return (nil, nil, nil) }
            let created = try create()
            return (nil, created.file, created.synced)
        }
        if let metadata = existing, let file = opened {
            return try await closing(file) { () async throws(QueueError) -> UInt64 in
                guard metadata.size >= claim.bytesDone else {
                    try await discardProgress()
                    try fileSystem.truncate(file, to: 0)
                    return 0
                }
                if Mutant.trustTempLength.isActive { return metadata.size }
                if metadata.size > claim.bytesDone { try fileSystem.truncate(file, to: claim.bytesDone) }
                return claim.bytesDone
            }
        }
        let created: (file: OpenFile, synced: Result<Void, QueueError>?)
        if let opened {
            created = (opened, synced)
        } else {
            try await discardProgress()
            created = try await FileThreads.run(create)
        }
        return try await closing(created.file) { () async throws(QueueError) -> UInt64 in
            if let synced = created.synced { try synced.get() } else { try await directory.sync() }
            return 0
        }
    }

    /// Runs `step` on the just-opened `file`; returns the file and the offset it gives, or closes
    /// the file and rethrows.
    private func closing(_ file: OpenFile, _ step: () async throws(QueueError) -> UInt64) async throws(QueueError) -> (OpenFile, UInt64) {
        do throws(QueueError) {
            return (file, try await step())
        } catch {
            fileSystem.close(file)
            throw error
        }
    }

    /// Every byte is in: make it durable, check it, and move it into place.
    private func finish(_ sink: TransferSink, file: OpenFile, directory: OpenDirectory) async throws(QueueError) {
        let (held, total, _) = sink.position
        let fileSystem = fileSystem
        // Temp files stay 0600 while they fill; the final file gets the mode a new file would get.
        try await FileThreads.run { () throws(QueueError) in
            try fileSystem.fsync(file)
            try fileSystem.setMode(file, FileMode.newFile)
        }
        if let total, held != total {
            throw QueueError(.transfer, "\(claim.remote) ended at \(held) of \(total) bytes", value: claim.remote, isTransient: true)
        }
        if let expected = claim.sha256, let actual = try await sink.digest() {
            guard actual == expected else {
                throw QueueError(
                    .validationFailed, "\(claim.local): SHA-256 is \(actual.hexString), expected \(expected.hexString)",
                    value: claim.remote)
            }
        }
        try await context.finishing.finish(FinishingLine.Item(claim: claim, directory: directory, bytes: held), context: context)
        context.logger.debug("file complete", metadata: ["file": "\(claim.local)", "bytes": "\(held)"])
    }
}
