import Foundation
import Synchronization
import Testing
@testable import BackgroundCopy

/// A running engine for one test: started in a task, stopped (and awaited) by `stop()`.
final class RunningEngine: Sendable {
    let manager: QueueManager
    private let task: Task<QueueError?, Never>

    init(_ manager: QueueManager) {
        self.manager = manager
        task = Task {
            do throws(QueueError) {
                try await manager.run()
                return nil
            } catch {
                return error
            }
        }
    }

    /// Cancels the engine and waits for it; returns the error it ended with, if any.
    @discardableResult
    func stop() async -> QueueError? {
        task.cancel()
        return await task.value
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// Deterministic bytes for source files.
func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed) &+ ($0 >> 11)) }
}

/// A transport for the `test` scheme that copies local files (`test:///path`) through the real
/// ``FileTransport`` and records each request's offset; it can fail the first attempts.
final class RecordingTransport: Transport {
    struct Attempt: Sendable, Equatable {
        let remote: String
        let offset: UInt64
    }

    let attempts = Mutex<[Attempt]>([])
    /// Errors to throw, one per attempt, before copying normally.
    let failures: Mutex<[QueueError]>
    private let inner = FileTransport()

    init(failures: [QueueError] = []) {
        self.failures = Mutex(failures)
    }

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        attempts.withLock { $0.append(Attempt(remote: request.remote, offset: request.offset)) }
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        let path = String(request.remote.dropFirst("test://".count))
        let local = TransferRequest(
            remote: path, offset: request.offset, validator: request.validator,
            headers: request.headers, groupID: request.groupID)
        try await inner.fetch(local, into: sink)
    }
}

extension Scratch {
    /// A configuration for engine tests: fast polling, short retries, the `test` scheme allowed.
    func engineConfiguration(transport: RecordingTransport? = nil) -> QueueManager.Configuration {
        var configuration = QueueManager.Configuration()
        configuration.changePollInterval = .milliseconds(50)
        configuration.minimumRetryDelay = .milliseconds(50)
        configuration.retryDelayFloor = .zero
        configuration.checkpointBytes = 64 << 10
        configuration.checkpointInterval = .milliseconds(100)
        if let transport {
            configuration.allowedSchemes.insert("test")
            configuration.transports["test"] = transport
        }
        return configuration
    }

    /// Writes a source file of `size` patterned bytes and returns its path.
    @discardableResult
    func source(_ name: String, size: Int, seed: UInt8 = 1) -> String {
        write(name, pattern(size, seed: seed))
        return path(name)
    }

    func contents(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(name)).map(Array.init)
    }
}

/// Group properties with short retry delays for engine tests.
func quickRetries(_ name: String, priority: Priority = .normal, noProgressTimeout: Duration = .seconds(30)) -> GroupProperties {
    GroupProperties(displayName: name, priority: priority, retryDelay: .milliseconds(50), noProgressTimeout: noProgressTimeout)
}
