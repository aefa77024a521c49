import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a ``Transport`` delivers a file's bytes: the file's temp file beside its local path.
///
/// The sink owns durability: every few MiB or seconds it fsyncs the temp file and then commits the
/// byte count (DESIGN.md, Durability step 2), so committed progress never exceeds the bytes on
/// disk. That checkpoint runs beside the stream, on a file thread and the store's writer, while
/// the transport goes on writing: the count it commits is the one taken before its fsync began,
/// and one runs at a time, so the network waits for the disk only when the disk is the slower.
///
/// It also applies the background throttle and stops the transfer — by throwing — when the file's
/// group is suspended or cancelled, or the engine's task is cancelled.
///
/// It never fills the disk: a source whose announced size does not fit beside the configuration's
/// ``QueueManager/Configuration/reservedFreeSpace`` is refused at ``begin(at:total:validator:)``,
/// and free space is looked at again every mebibyte written, so a source of unknown (or endless)
/// length is stopped at the reserve. Both throw `transfer` errors with `ENOSPC`.
public final class TransferSink: Sendable {
    struct State {
        var started = false
        /// Where the next byte goes; bytes before it are in the temp file.
        var offset: UInt64
        /// The bytes the latest checkpoint covers, committed or on its way.
        var checkpointed: UInt64
        var total: UInt64?
        var validator: String?
        /// When the latest checkpoint started.
        var lastCheckpoint: ContinuousClock.Instant
        /// Bytes written since free space was last looked at.
        var unchecked: UInt64 = 0
        /// Bytes handed to ``write(_:)`` in this attempt, wherever they went: what the low-speed
        /// limit measures.
        var received: UInt64 = 0
        /// A failure the engine decided on while the transport was fetching (the low-speed limit):
        /// the next ``write(_:)`` throws it, and it replaces the error the transport ends with.
        var verdict: QueueError?
        /// The checkpoint running beside the stream, if one is.
        var checkpointing: Task<Void, Never>?
        /// What the last checkpoint beside the stream failed with: the next ``write(_:)`` throws it.
        var checkpointFailure: QueueError?
    }

    /// How many bytes may be written between two looks at the free space.
    static let spaceCheckBytes: UInt64 = 1 << 20

    let claim: Claim
    let file: OpenFile
    private let context: EngineContext
    private let throttle: Throttle?
    /// The attempt's metrics and span, told of every buffer written.
    private let observation: TransferObservation?
    private let state: Mutex<State>
    /// The SHA-256 of the temp file, read back beside the stream, when the file has an expected one.
    private let digester: FollowingDigest?

    init(
        claim: Claim, file: OpenFile, offset: UInt64, context: EngineContext, throttle: Throttle?,
        observation: TransferObservation? = nil
    ) {
        self.claim = claim
        self.file = file
        self.context = context
        self.throttle = throttle
        self.observation = observation
        self.state = Mutex(
            State(
                offset: offset, checkpointed: offset, total: claim.bytesTotal,
                validator: offset > 0 ? claim.validator : nil, lastCheckpoint: .now))
        self.digester = claim.sha256.map { _ in FollowingDigest(fileSystem: context.fileSystem, path: claim.tempPath) }
    }

    /// Says where the transport's bytes start: at ``TransferRequest/offset`` to resume, or at 0 to
    /// start over (the committed progress is reset before the temp file is emptied). `total` is
    /// the full size if known; `validator` the version of the source the bytes come from.
    ///
    /// - Throws: `invalidArgument` for any other offset; `invalidState` when the transfer must stop;
    ///   `transfer` with `ENOSPC` when `total` does not fit on the disk.
    public func begin(at offset: UInt64, total: UInt64?, validator: String?) async throws(QueueError) {
        let restart = try state.withLock { state throws(QueueError) -> Bool in
            guard offset == state.offset || offset == 0 else {
                throw QueueError(
                    .invalidArgument, "transport began at byte \(offset); only \(state.offset) (resume) or 0 (restart) are possible", value: "\(offset)")
            }
            let restart = offset != state.offset
            state.started = true
            state.offset = offset
            state.total = total
            state.validator = validator
            return restart
        }
        if restart {
            try await drain()
            await digester?.reset()
            context.restartMarks.restarted(claim.fileRowID, holding: claim.bytesDone)
            try await commit(bytes: 0, sync: false)
            try context.fileSystem.truncate(file, to: 0)
        }
        if let total, total > offset { try ensureSpace(for: total - offset, announced: total) }
    }

    /// Appends bytes at the current offset; checkpoints when enough bytes or time have passed.
    ///
    /// - Throws: `invalidState` when the transfer must stop (group suspended or cancelled, task
    ///   cancelled); `transfer` if the source sends more than the size it announced, or (with
    ///   `ENOSPC`) when the disk would fill past the reserve; `fileSystem`.
    public func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) async throws(QueueError) {
        if let failure = state.withLock({ $0.checkpointFailure ?? $0.verdict }) { throw failure }
        guard !Task.isCancelled else { throw TransferSink.stopped }
        if let throttle { try await throttle.take(bytes.count) }
        if state.withLock({ $0.unchecked >= Self.spaceCheckBytes }) {
            try ensureSpace(for: UInt64(bytes.count), announced: nil)
            state.withLock { $0.unchecked = 0 }
        }
        let due = try state.withLock { state throws(QueueError) -> UInt64? in
            guard state.started else {
                throw QueueError(.invalidArgument, "transport wrote before begin(at:total:validator:)", value: claim.remote)
            }
            let end = state.offset + UInt64(bytes.count)
            if let total = state.total, end > total {
                throw QueueError(.transfer, "\(claim.remote.withoutQuery) sent more than its announced \(total) bytes", value: claim.remote, isTransient: true)
            }
            try append(bytes, at: state.offset)
            state.offset = end
            state.unchecked += UInt64(bytes.count)
            state.received += UInt64(bytes.count)
            let due =
                end - state.checkpointed >= context.settings.checkpointBytes
                || state.lastCheckpoint.duration(to: .now) >= context.settings.checkpointInterval
            return due ? end : nil
        }
        observation?.received(bytes.count)
        if let due { try await startCheckpoint(through: due) }
    }

    /// Starts the checkpoint of the first `count` bytes beside the stream, once the one before it
    /// has ended: every checkpoint that comes due is taken (the same ones, whatever the timing),
    /// and the stream waits only when the disk is slower than the network.
    private func startCheckpoint(through count: UInt64) async throws(QueueError) {
        try await drain()
        state.withLock { state in
            state.checkpointed = count
            state.lastCheckpoint = .now
            state.checkpointing = Task { await checkpointBesideTheStream(through: count) }
        }
        digester?.follow(to: count)
    }

    /// Runs `fetch`, then waits for the checkpoint and the digest's reading beside it. A
    /// checkpoint that failed is the failure that counts, whatever the fetch did meanwhile: its
    /// bytes may not be durable, and a failed fsync is never retried (DESIGN.md, Durability 8).
    func streaming(_ fetch: () async throws(QueueError) -> Void) async throws(QueueError) {
        let failure = await Self.failure(of: fetch)
        if let digester {
            // A whole file's last stretch is read beside its last checkpoint.
            if failure == nil { digester.follow(to: position.offset) }
            await digester.caughtUp()
        }
        try await drain()
        if let failure { throw failure }
    }

    /// Waits for the checkpoint running beside the stream, if one is; throws what it failed with.
    /// The engine waits for the last one itself; the crash harness's transport waits before each
    /// of its hooks, so that a suspend or cancel they make always lands after the same checkpoints.
    package func drain() async throws(QueueError) {
        if let running = state.withLock({ $0.checkpointing }) { await running.value }
        if let failure = state.withLock({ $0.checkpointFailure }) { throw failure }
    }

    /// The checkpoint of the first `count` bytes, beside the stream.
    private func checkpointBesideTheStream(through count: UInt64) async {
        let failure = await Self.failure { () async throws(QueueError) in try await commit(bytes: count, sync: true) }
        state.withLock { state in
            state.checkpointFailure = state.checkpointFailure ?? failure
            state.checkpointing = nil
        }
    }

    private static func failure(of step: () async throws(QueueError) -> Void) async -> QueueError? {
        do throws(QueueError) {
            try await step()
            return nil
        } catch {
            return error
        }
    }

    /// Bytes received in this attempt so far (re-fetched ones included).
    var received: UInt64 {
        state.withLock { $0.received }
    }

    /// Ends the transfer with `failure`: the next write throws it.
    func fail(_ failure: QueueError) {
        state.withLock { $0.verdict = failure }
    }

    /// Throws unless `count` more bytes fit on the temp file's file system with the reserve left free.
    private func ensureSpace(for count: UInt64, announced: UInt64?) throws(QueueError) {
        let free = try context.fileSystem.freeSpace(inDirectory: claim.local.parentDirectory)
        let reserve = context.settings.reservedFreeSpace
        guard free < reserve || free - reserve < count else { return }
        let room = free > reserve ? free - reserve : 0
        let what = announced.map { "is \($0) bytes" } ?? "kept sending past \(position.offset) bytes"
        throw QueueError(
            .transfer,
            "\(claim.remote.withoutQuery) \(what); \(claim.local.parentDirectory) has \(free) bytes free, "
                + "\(room) beyond the \(reserve) bytes kept in reserve: refused so as not to fill the disk",
            value: claim.remote, systemError: ENOSPC)
    }

    /// The bytes held and the size announced so far.
    var position: (offset: UInt64, total: UInt64?, validator: String?) {
        state.withLock { ($0.offset, $0.total, $0.validator) }
    }

    /// Makes the first `bytes` bytes (all written so far if `nil`) durable and commits the count.
    /// Bytes below what the file held when this attempt began — or, if its source ever restarted
    /// from zero, the most it ever held (``RestartMarks``) — are not progress: a source that
    /// restarts from zero each time does not hold off the no-progress timeout or the backoff. A
    /// database that is busy or full is waited out (``StoragePatience``).
    func commit(bytes: UInt64?, sync: Bool) async throws(QueueError) {
        // Counted before the fsync: bytes written while it runs may not be covered by it.
        let (count, total, validator) = state.withLock { state in (bytes ?? state.offset, state.total, state.validator) }
        if sync && !Mutant.skipCheckpointFsync.isActive {
            let (fileSystem, file) = (context.fileSystem, file)
            try await FileThreads.run { () throws(QueueError) in try fileSystem.fsync(file) }
        }
        let above = max(claim.bytesDone, context.restartMarks.mark(claim.fileRowID) ?? 0)
        let checkpointed = try await context.patiently("checkpoint") { () async throws(QueueError) -> Bool in
            try await context.ledger.checkpoint(
                claim.fileRowID, bytesDone: count, bytesTotal: total, validator: validator,
                progressAbove: above)
        }
        guard checkpointed else { throw TransferSink.stopped }
        context.restartMarks.committed(claim.fileRowID, count)
        state.withLock { state in
            state.checkpointed = count
        }
    }

    private func append<Bytes: Collection<UInt8>>(_ bytes: Bytes, at offset: UInt64) throws(QueueError) {
        var failure: QueueError?
        func write(_ buffer: UnsafeRawBufferPointer) {
            do throws(QueueError) {
                try context.fileSystem.write(file, buffer, at: offset)
            } catch {
                failure = error
            }
        }
        if bytes.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { write($0) }
        }
        if let failure { throw failure }
    }

    /// The SHA-256 of every byte held, or `nil` when the file expects none.
    func digest() async throws(QueueError) -> [UInt8]? {
        let held = state.withLock { $0.offset }
        return try await digester?.finalize(through: held)
    }

    /// Thrown when the file is no longer the engine's to transfer.
    static let stopped = QueueError(.invalidState, "transfer stopped: the group was suspended or cancelled, or the engine is stopping")
}
