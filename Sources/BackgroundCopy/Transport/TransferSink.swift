import Synchronization

/// Where a ``Transport`` delivers a file's bytes: the file's temp file beside its local path.
///
/// The sink owns durability: every few MiB or seconds it fsyncs the temp file and then commits the
/// byte count (DESIGN.md, Durability step 2), so committed progress never exceeds the bytes on
/// disk. It also applies the background throttle and stops the transfer — by throwing — when the
/// file's group is suspended or cancelled, or the engine's task is cancelled.
public final class TransferSink: Sendable {
    struct State {
        var started = false
        /// Where the next byte goes; bytes before it are in the temp file.
        var offset: UInt64
        /// Bytes committed to the database.
        var committed: UInt64
        var total: UInt64?
        var validator: String?
        var lastCheckpoint: ContinuousClock.Instant
    }

    let claim: Claim
    let file: OpenFile
    private let context: EngineContext
    private let throttle: Throttle?
    private let state: Mutex<State>

    init(claim: Claim, file: OpenFile, offset: UInt64, context: EngineContext, throttle: Throttle?) {
        self.claim = claim
        self.file = file
        self.context = context
        self.throttle = throttle
        self.state = Mutex(State(offset: offset, committed: offset, total: claim.bytesTotal,
                                 validator: offset > 0 ? claim.validator : nil, lastCheckpoint: .now))
    }

    /// Says where the transport's bytes start: at ``TransferRequest/offset`` to resume, or at 0 to
    /// start over (the committed progress is reset before the temp file is emptied). `total` is
    /// the full size if known; `validator` the version of the source the bytes come from.
    ///
    /// - Throws: `invalidArgument` for any other offset; `invalidState` when the transfer must stop.
    public func begin(at offset: UInt64, total: UInt64?, validator: String?) async throws(QueueError) {
        let restart = try state.withLock { state throws(QueueError) -> Bool in
            guard offset == state.offset || offset == 0 else {
                throw QueueError(.invalidArgument, "transport began at byte \(offset); only \(state.offset) (resume) or 0 (restart) are possible", value: "\(offset)")
            }
            let restart = offset != state.offset
            state.started = true
            state.offset = offset
            state.total = total
            state.validator = validator
            return restart
        }
        if restart {
            try commit(bytes: 0, sync: false)
            try context.fileSystem.truncate(file, to: 0)
        }
    }

    /// Appends bytes at the current offset; checkpoints when enough bytes or time have passed.
    ///
    /// - Throws: `invalidState` when the transfer must stop (group suspended or cancelled, task
    ///   cancelled); `transfer` if the source sends more than the size it announced; `fileSystem`.
    public func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) async throws(QueueError) {
        guard !Task.isCancelled else { throw TransferSink.stopped }
        if let throttle { try await throttle.take(bytes.count) }
        let due = try state.withLock { state throws(QueueError) -> Bool in
            guard state.started else {
                throw QueueError(.invalidArgument, "transport wrote before begin(at:total:validator:)", value: claim.remote)
            }
            let end = state.offset + UInt64(bytes.count)
            if let total = state.total, end > total {
                throw QueueError(.transfer, "\(claim.remote) sent more than its announced \(total) bytes", value: claim.remote, isTransient: true)
            }
            try append(bytes, at: state.offset)
            state.offset = end
            return end - state.committed >= context.settings.checkpointBytes
                || state.lastCheckpoint.duration(to: .now) >= context.settings.checkpointInterval
        }
        if due { try commit(bytes: nil, sync: true) }
    }

    /// The bytes held and the size announced so far.
    var position: (offset: UInt64, total: UInt64?, validator: String?) {
        state.withLock { ($0.offset, $0.total, $0.validator) }
    }

    /// Makes the bytes written so far durable and commits them; `bytes` overrides the count (a restart).
    func commit(bytes: UInt64?, sync: Bool) throws(QueueError) {
        if sync { try context.fileSystem.fsync(file) }
        let (count, total, validator) = state.withLock { state in (bytes ?? state.offset, state.total, state.validator) }
        guard try context.ledger.checkpoint(claim.fileRowID, bytesDone: count, bytesTotal: total, validator: validator) else {
            throw TransferSink.stopped
        }
        state.withLock { state in
            state.committed = count
            state.lastCheckpoint = .now
        }
    }

    private func append<Bytes: Collection<UInt8>>(_ bytes: Bytes, at offset: UInt64) throws(QueueError) {
        var failure: QueueError?
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(QueueError) {
                try context.fileSystem.write(file, UnsafeRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
            }
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { buffer in
                do throws(QueueError) {
                    try context.fileSystem.write(file, buffer, at: offset)
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
    }

    /// Thrown when the file is no longer the engine's to transfer.
    static let stopped = QueueError(.invalidState, "transfer stopped: the group was suspended or cancelled, or the engine is stopping")
}
