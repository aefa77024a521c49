import BackgroundCopy
import Crypto
import Foundation
import Logging
import Synchronization

/// Everything a workload works with: a trial directory (`queue/` holds the database and the
/// destination files, tracked by the simulator; `sources/` holds what is copied, untracked), the
/// open queue, the acknowledgement log and the hooks of the file-system seam.
public final class WorkloadContext: @unchecked Sendable {
    // Unchecked: `manager`, `configuration` and `beforeChunk` are set only while no call of the
    // workload runs (a racing workload's callers only read them, and record through `acks` and
    // `hookFailure`, which lock).

    public let directory: String
    let queueDirectory: String
    let sourceDirectory: String
    let acks: AckLog
    let fileSystem: SimulatedFileSystem
    /// The settings the queue is opened with (the live-fault tier shortens its timeouts).
    var configuration: QueueManager.Configuration
    /// Mid-transfer hook: called with the source's path and the offset before each chunk is delivered.
    var beforeChunk: (@Sendable (String, UInt64) async -> Void)?
    private(set) var manager: QueueManager?
    /// The first failure of a call made from a hook; the next ``transfer(limit:)`` throws it.
    private let hookFailure = Mutex<QueueError?>(nil)

    /// The database's path.
    public var databasePath: String { "\(queueDirectory)/queue.sqlite" }

    init(directory: String, acks: AckLog, simulated: Bool) {
        self.directory = directory
        self.queueDirectory = "\(directory)/queue"
        self.sourceDirectory = "\(directory)/sources"
        self.acks = acks
        self.fileSystem = SimulatedFileSystem()
        var configuration = QueueManager.Configuration()
        configuration.sqliteVFS = simulated ? "bgcopy-powerloss" : nil
        configuration.checkpointBytes = 4096
        configuration.checkpointInterval = .seconds(3600)
        configuration.minimumRetryDelay = .seconds(5)
        self.configuration = configuration
    }

    /// Creates the trial's directories (untracked: they exist before the trial starts).
    func prepareDirectories() throws {
        try FileManager.default.createDirectory(atPath: queueDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: sourceDirectory, withIntermediateDirectories: true)
    }

    /// Opens (or reopens) the queue through the simulator. With `template` (the default), a queue
    /// that does not exist yet is first copied from ``template`` (as if created before the trial);
    /// without it the trial creates and migrates the queue itself, so crashes fall there too.
    func open(template: Bool = true) throws(QueueError) {
        manager = nil
        if template, !FileManager.default.fileExists(atPath: databasePath) {
            guard let bytes = WorkloadContext.template,
                FileManager.default.createFile(atPath: databasePath, contents: bytes, attributes: [.posixPermissions: 0o600])
            else {
                throw QueueError(.fileSystem, "the template queue could not be copied", value: databasePath)
            }
        }
        manager = try QueueManager(
            path: databasePath, configuration: configuration, fileSystem: fileSystem,
            logger: Logger(label: "crash-harness", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// An empty queue, created and migrated once per process with the real VFS and closed (its
    /// WAL checkpointed away): the bytes of its database file.
    static let template: Data? = {
        let directory = TrialRunner.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/queue.sqlite"
        do {
            _ = try QueueManager(path: path, logger: InvariantChecker.silent)
            // Everything into the database file, the WAL emptied: the file alone is the queue.
            let checkpoint = try RawDatabase(path: path).rows("PRAGMA wal_checkpoint(TRUNCATE)")
            guard checkpoint.first?.first?.int64 == 0 else { return nil }
        } catch {
            return nil
        }
        return FileManager.default.contents(atPath: path)
    }()

    /// Drops the queue, the chunk hook and the rename hook: a hook holds this context and the
    /// group handles it calls, so left set after a workload that failed midway it would keep both,
    /// and the queue with its connections, alive.
    func close() {
        manager = nil
        beforeChunk = nil
        fileSystem.onRename(nil)
    }

    func queue() throws(QueueError) -> QueueManager {
        guard let manager else { throw QueueError(.invalidState, "the queue is not open") }
        return manager
    }

    /// Writes a source file (deterministic content from `seed`) and records its version; every
    /// version is also kept under `sources/versions/<sha256>` for the invariants.
    @discardableResult
    func source(_ name: String, size: Int, seed: UInt8) throws -> String {
        let path = "\(sourceDirectory)/\(name)"
        let (bytes, sha) = WorkloadContext.content(size: size, seed: seed)
        try FileManager.default.createDirectory(atPath: "\(sourceDirectory)/versions", withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: "\(sourceDirectory)/versions/\(sha)"))
        try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        acks.record(.sourceVersion(path: path, sha256: sha))
        return path
    }

    /// The content a source of `size` bytes from `seed` has, and its SHA-256; made once per process.
    private static func content(size: Int, seed: UInt8) -> (Data, String) {
        if let made = contents.withLock({ $0[size << 8 | Int(seed)] }) { return made }
        let bytes = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 17 &+ ($0 >> 8)) })
        let made = (bytes, sha256(bytes))
        contents.withLock { $0[size << 8 | Int(seed)] = made }
        return made
    }

    private static let contents = Mutex<[Int: (Data, String)]>([:])

    /// A destination path in the queue directory.
    func local(_ name: String) -> String { "\(queueDirectory)/\(name)" }

    /// Adds files to `job` of `group`, recording the attempt and the acknowledgement; `remote`
    /// names where each source is fetched from (the source file itself by default).
    func add(
        _ pairs: [(local: String, source: String)], to job: Job,
        remote: (String) -> String = { "file://\($0)" }
    ) throws(QueueError) {
        let batch = pairs.map { AckLog.FileRef(local: $0.local, source: $0.source) }
        acks.record(.filesAttempted(group: job.groupID.uuid, batch: batch))
        try job.addFiles(pairs.map { FileSpec(remote: remote($0.source), local: $0.local) })
        acks.record(.filesAdded(group: job.groupID.uuid, batch: batch))
    }

    /// Creates a group with a fixed ID, recording the attempt and the acknowledgement.
    func createGroup(_ number: Int, priority: Priority = .normal, retryDelay: Duration = .seconds(600)) throws(QueueError) -> Group {
        let id = WorkloadContext.groupID(number)
        acks.record(.groupAttempted(id))
        let properties = GroupProperties(displayName: "group \(number)", priority: priority, retryDelay: retryDelay)
        let group = try queue().createGroup(id: GroupID(id), properties: properties)
        acks.record(.groupCreated(id))
        return group
    }

    /// The fixed ID of a workload's group `number`.
    static func groupID(_ number: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", number))!
    }

    func resume(_ group: Group) throws(QueueError) {
        try group.resume()
        acks.record(.resumed(group.id.uuid))
    }

    func suspend(_ group: Group) throws(QueueError) {
        try group.suspend()
        acks.record(.suspended(group.id.uuid))
    }

    /// Cancels the group, recording which of its files were complete just before.
    func cancel(_ group: Group) throws(QueueError) {
        let complete = try completeLocals(group)
        try group.cancel()
        acks.record(.cancelled(group: group.id.uuid, complete: complete))
    }

    /// Cancels one job, recording its files and which were complete just before.
    func cancel(_ job: Job, of group: Group) throws(QueueError) {
        let files = try job.files()
        try job.cancel()
        acks.record(
            .jobCancelled(
                group: group.id.uuid, locals: files.map(\.local),
                complete: files.filter { $0.state == .complete }.map(\.local)))
    }

    /// Makes a call from a hook (mid-transfer, before a rename); a failure ends the workload at
    /// the end of the current transfer, as if the call had been made in line.
    func fromHook(_ call: () throws(QueueError) -> Void) {
        do throws(QueueError) {
            try call()
        } catch {
            hookFailure.withLock { $0 = $0 ?? error }
        }
    }

    /// Transfers, one file at a time in the engine's order, until nothing can be claimed; then
    /// acknowledges every file the library reports complete. At most `limit` files are started;
    /// `transports` adds schemes to the stepped local copy.
    func transfer(limit: Int = 64, transports: [String: any Transport] = [:]) async throws(QueueError) {
        let transports = transports.merging(["file": SteppedTransport(chunk: 1024, hook: beforeChunk)]) { own, _ in own }
        var started = 0
        while started < limit, try await queue().transferNextFile(transports: transports) { started += 1 }
        if let failure = hookFailure.withLock({ $0 }) { throw failure }
        try acknowledgeCompletions()
    }

    /// Records every file the queue reports complete (acknowledged once per file).
    func acknowledgeCompletions() throws(QueueError) {
        let known = Set(
            acks.all.compactMap { entry -> String? in
                if case .completed(_, let local) = entry { return local }
                return nil
            })
        for group in try queue().groups() {
            for local in try completeLocals(group) where !known.contains(local) {
                acks.record(.completed(group: group.id.uuid, local: local))
            }
        }
    }

    private func completeLocals(_ group: Group) throws(QueueError) -> [String] {
        var locals: [String] = []
        for job in try group.jobs() {
            locals += try job.files().filter { $0.state == .complete }.map(\.local)
        }
        return locals
    }

    static func sha256<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        SHA256.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined()
    }
}
