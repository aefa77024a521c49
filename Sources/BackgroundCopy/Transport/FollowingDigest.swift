import Crypto
import Synchronization

/// The SHA-256 of a temp file's bytes, read back from the file while the download goes on.
///
/// The sink asks it to follow each checkpoint (``follow(to:)``, which returns at once); one file
/// thread then reads the new stretch back — from the page cache — into the hash, beside the
/// stream and the checkpoint's fsync, and neither of them waits for it. What it verifies is what
/// the temp file holds, and a resumed file's held bytes are read once, with the rest. It falls
/// behind only when the file threads are busy, and ``finalize(through:)`` catches up at the end.
final class FollowingDigest: Sendable {
    private struct State {
        /// The bytes in ``hasher``: the first `hashed` of the temp file.
        var hashed: UInt64 = 0
        /// How far the follower has been asked to read.
        var target: UInt64 = 0
        /// Whether a file thread is reading; while it is, only it touches ``hasher`` and `hashed`.
        var following = false
        /// What reading failed with: ``finalize(through:)`` throws it.
        var failure: QueueError?
        /// Callers of ``caughtUp()`` waiting for the follower to stop.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How many bytes one read takes from the file.
    static let readBytes = 1 << 18

    private let fileSystem: any FileSystem
    private let path: String
    private let state = Mutex(State())
    /// Apart from `state`, so that ``follow(to:)`` never waits for a stretch being hashed.
    private let hasher = Mutex(SHA256())

    init(fileSystem: any FileSystem, path: String) {
        self.fileSystem = fileSystem
        self.path = path
    }

    /// Asks for the first `end` bytes of the temp file to be hashed, on a file thread; returns at once.
    func follow(to end: UInt64) {
        let start = state.withLock { state -> Bool in
            state.target = max(state.target, end)
            guard !state.following, state.failure == nil, state.hashed < state.target else { return false }
            state.following = true
            return true
        }
        if start { FileThreads.submit { self.read() } }
    }

    /// Waits until no file thread is reading.
    func caughtUp() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if !state.following { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Starts again from an empty file (its source restarted from zero).
    func reset() async {
        await caughtUp()
        state.withLock { $0 = State() }
        hasher.withLock { $0 = SHA256() }
    }

    /// The SHA-256 of the first `end` bytes, once they are all read.
    ///
    /// - Throws: `fileSystem` when the temp file could not be read back.
    func finalize(through end: UInt64) async throws(QueueError) -> [UInt8] {
        follow(to: end)
        await caughtUp()
        if let failure = state.withLock({ $0.failure }) { throw failure }
        return hasher.withLock { Array($0.finalize()) }
    }

    /// What the follower does next: read a stretch into the hash, or stop.
    private enum Step {
        case read(from: UInt64, to: UInt64)
        case stop(waiters: [CheckedContinuation<Void, Never>])
    }

    /// Reads from where the hash stopped up to the target, which may move on meanwhile, then stops.
    /// Runs on a file thread. A file shorter than the target ends the reading: its hash then
    /// covers fewer bytes and cannot match, as a file changed behind the engine's back must not.
    private func read() {
        var reader: OpenFile?
        var buffer = [UInt8](repeating: 0, count: Self.readBytes)
        while true {
            let step = state.withLock { state -> Step in
                guard state.failure == nil, state.hashed < state.target else {
                    state.following = false
                    defer { state.waiters = [] }
                    return .stop(waiters: state.waiters)
                }
                return .read(from: state.hashed, to: state.target)
            }
            switch step {
            case .stop(let waiters):
                if let reader { fileSystem.close(reader) }
                for waiter in waiters { waiter.resume() }
                return
            case .read(var offset, let end):
                do throws(QueueError) {
                    let file: OpenFile
                    if let reader { file = reader } else { file = try fileSystem.openForReading(path) }
                    reader = file
                    while offset < end {
                        let count = try fileSystem.read(file, into: &buffer, at: offset)
                        guard count > 0 else { break }
                        let taken = Int(min(UInt64(count), end - offset))
                        let chunk = buffer[0..<taken]
                        hasher.withLock { $0.update(data: chunk) }
                        offset += UInt64(taken)
                    }
                    state.withLock { $0.hashed = end }
                } catch {
                    state.withLock { $0.failure = error }
                }
            }
        }
    }
}
