import Synchronization

/// The destination directories of the files in flight, each opened once while any of its files
/// transfers, with one directory fsync shared by the files that need one at the same time.
///
/// A directory is opened following no symbolic link in any component
/// (``FileSystem/openDirectory(_:)``) when its first file starts and closed when its last one
/// ends: a batch of files into one folder walks its path once, not once per file. A directory
/// swapped for a link while its files transfer is not followed; they still land in the directory
/// that was opened, as a single file always did.
final class OpenDirectories: Sendable {
    private struct Entry {
        let directory: OpenDirectory
        var users: Int
    }

    private let fileSystem: any FileSystem
    private let entries = Mutex<[String: Entry]>([:])

    init(fileSystem: any FileSystem) {
        self.fileSystem = fileSystem
    }

    /// The open directory `path`, opened on a file thread unless a file in flight holds it already.
    /// Every call is paired with one ``release(_:)``.
    func acquire(_ path: String) async throws(QueueError) -> OpenDirectory {
        if let held = entries.withLock({ entries -> OpenDirectory? in
            entries[path]?.users += 1
            return entries[path]?.directory
        }) {
            return held
        }
        let fileSystem = fileSystem
        let opened = try await FileThreads.run { () throws(QueueError) in try fileSystem.openDirectory(path) }
        let directory = OpenDirectory(file: opened, fileSystem: fileSystem)
        let winner = entries.withLock { entries -> OpenDirectory in
            if let other = entries[path] {
                entries[path]?.users += 1
                return other.directory
            }
            entries[path] = Entry(directory: directory, users: 1)
            return directory
        }
        // Another file opened it meanwhile: use theirs, close this one.
        if winner !== directory { fileSystem.close(opened) }
        return winner
    }

    /// Gives `directory` back; the last file to give it back closes it.
    func release(_ directory: OpenDirectory) {
        let last = entries.withLock { entries -> Bool in
            let path = directory.file.path
            guard var entry = entries[path], entry.directory === directory else { return false }
            entry.users -= 1
            entries[path] = entry.users == 0 ? nil : entry
            return entry.users == 0
        }
        if last { fileSystem.close(directory.file) }
    }
}

/// A directory held open by ``OpenDirectories``, whose fsyncs are shared.
///
/// ``sync()`` returns once a directory fsync that *started after the call* has finished, so it
/// covers every create, rename and unlink the caller made in the directory before calling. Calls
/// that come while an fsync runs wait for the next one, which then covers all of them: sixteen
/// files renamed together cost two fsyncs, not sixteen (DESIGN.md, Durability step 6).
final class OpenDirectory: Sendable {
    private typealias Waiter = CheckedContinuation<Result<Void, QueueError>, Never>

    private struct SyncState {
        /// Fsyncs started and finished so far; one runs when `started > finished`.
        var started: UInt64 = 0
        var finished: UInt64 = 0
        /// Callers and the number of the fsync that covers them.
        var waiting: [(fsync: UInt64, waiter: Waiter)] = []
    }

    let file: OpenFile
    private let fileSystem: any FileSystem
    private let state = Mutex(SyncState())

    init(file: OpenFile, fileSystem: any FileSystem) {
        self.file = file
        self.fileSystem = fileSystem
    }

    /// Makes every entry change made in the directory before this call durable.
    /// - Throws: `fileSystem` if the fsync that covers the call fails.
    func sync() async throws(QueueError) {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let next = state.withLock { state -> UInt64? in
                if Mutant.sharedDirsyncSkipped.isActive && state.finished > 0 {
                    waiter.resume(returning: .success(()))
                    return nil
                }
                let running = state.started > state.finished
                state.waiting.append((state.started + 1, waiter))
                guard !running else { return nil }
                state.started += 1
                return state.started
            }
            if let next { start(next) }
        }
        try result.get()
    }

    /// Called on a file thread just after an entry change in the directory: when no fsync runs, it
    /// runs one there and then — a file on its own needs no second trip to a file thread — and
    /// returns its outcome; when one runs, it returns `nil` and the caller waits with ``sync()``.
    func syncIfIdle() -> Result<Void, QueueError>? {
        guard !Mutant.sharedDirsyncSkipped.isActive else { return nil }
        let number = state.withLock { state -> UInt64? in
            guard state.started == state.finished else { return nil }  // callers wait only while one runs
            state.started += 1
            return state.started
        }
        return number.map(run)
    }

    /// Runs fsync number `number` on a file thread.
    private func start(_ number: UInt64) {
        FileThreads.submit { [self] in _ = run(number) }
    }

    /// Runs fsync number `number` on this thread; then answers the callers it covers, starts the
    /// next one if callers came while it ran, and returns its outcome.
    private func run(_ number: UInt64) -> Result<Void, QueueError> {
        let outcome = Result { () throws(QueueError) in try fileSystem.fsyncDirectory(file) }
        let (covered, next) = state.withLock { state -> ([Waiter], UInt64?) in
            state.finished = number
            let covered = state.waiting.filter { $0.fsync <= number }.map(\.waiter)
            state.waiting.removeAll { $0.fsync <= number }
            guard !state.waiting.isEmpty else { return (covered, nil) }
            state.started += 1
            return (covered, state.started)
        }
        for waiter in covered { waiter.resume(returning: outcome) }
        if let next { start(next) }
        return outcome
    }
}
