import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// A source that ignores the offset asked for: every try starts the file again from its first
/// byte, sends the next prefix length of `prefixes` (the last one repeats), and drops the
/// connection, as a server that ignores `Range` and whose connection breaks at varying points.
private final class RestartingTransport: Transport {
    static let size = 10_000
    private let prefixes: Mutex<[Int]>

    init(prefixes: [Int]) {
        self.prefixes = Mutex(prefixes)
    }

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let count = prefixes.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
        try await sink.begin(at: 0, total: UInt64(Self.size), validator: nil)
        try await sink.write([UInt8](repeating: 7, count: count))
        throw QueueError(.transfer, "connection dropped after \(count) bytes", value: request.remote, isTransient: true)
    }
}

@Suite("Engine: progress of a source that restarts from zero", .alone)
struct RestartProgressTests {
    @Test func aLongerPrefixAfterAShorterOneIsNotProgressSoRetriesKeepGrowingUntilTheTimeout() async throws {
        let scratch = Scratch()
        // 6,000 bytes, then 2,000, then 6,000 again, …: after the first try nothing new arrives.
        let transport = RestartingTransport(prefixes: [6_000, 2_000, 6_000, 2_000, 6_000, 2_000, 6_000, 2_000, 6_000])
        var configuration = scratch.engineConfiguration()
        configuration.allowedSchemes.insert("test")
        configuration.transports["test"] = transport
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("restarting", noProgressTimeout: .seconds(3)))
        try await group.createJob().addFiles([FileSpec(remote: "test://source/restarting.bin", local: scratch.path("restarting.bin"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        let ended = try await eventually(timeout: .seconds(60)) { try group.status().state == .error }
        await engine.stop()
        #expect(ended, "the no-progress timeout ended the group")
        let failure = try #require(try await group.status().lastError)
        #expect(failure.retries >= 3, "a longer prefix reset the retries: \(failure)")
        let progress = try query(scratch.database, "SELECT count(*) FROM events WHERE kind = 'progress'")
        #expect(progress == [["1"]], "only the first 6,000 bytes were progress")
    }

    @Test func theRetryAfterATryThatMadeProgressWaitsTheFirstBackoffStepAgain() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try await manager.createGroup(properties: GroupProperties(displayName: "backoff"))
        try await group.createJob().addFiles([FileSpec(remote: "http://127.0.0.1:9/backoff.bin", local: scratch.path("backoff.bin"))])
        try await group.resume()
        let ledger = TransferLedger(core: manager.core)
        let dropped = QueueError(.transfer, "connection dropped", isTransient: true)
        // Three tries with nothing new: the count grows (each waits nothing, so the next claim comes at once).
        let counts = Mutex<[Int]>([])
        for _ in 1...3 {
            let claim = try #require(try await ledger.claimNextFile())
            let wait = try await ledger.retryLater(claim.fileRowID, error: dropped) { retries in
                counts.withLock { $0.append(retries) }
                return .zero
            }
            #expect(wait == .zero)
        }
        #expect(counts.withLock { $0 } == [1, 2, 3])
        let claim = try #require(try await ledger.claimNextFile())
        #expect(claim.retries == 3)
        #expect(try await ledger.checkpoint(claim.fileRowID, bytesDone: 1_000, bytesTotal: nil, validator: nil), "this try made progress")
        let wait = try await ledger.retryLater(claim.fileRowID, error: dropped) { .seconds($0) }
        #expect(wait == .seconds(1), "the backoff starts over with the count, not from the count the try was claimed with")
        #expect(try await group.status().lastError?.retries == 1)
    }
}
