import CSQLite
import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Random operation sequences applied to a real queue and to ``ReferenceModel``; after every
/// operation the outcome and the whole state must agree. Each backend runs its own sequences:
/// SQLite 1,000 by default, PostgreSQL 50 (about 3 s each: every call and every comparison is a
/// round trip to the server, and each sequence gets a database of its own), both from seed 1, so
/// the PostgreSQL seeds are the first of SQLite's.
///
/// Replay one sequence (on both backends): `BGCOPY_MODEL_SEED=<n> swift test --filter ModelBasedTests`.
/// Run more: `BGCOPY_MODEL_SEQUENCES=<n>` (seeds 1...n on both backends).
@Suite("Model-based: random operation sequences against a reference model", .alone)
struct ModelBasedTests {
    @Test(arguments: Backend.allCases)
    func randomOperationSequencesAgreeWithTheReferenceModel(backend: Backend) async throws {
        let environment = ProcessInfo.processInfo.environment
        let seeds: [UInt64]
        if let text = environment["BGCOPY_MODEL_SEED"] {
            let seed = try #require(UInt64(text), "BGCOPY_MODEL_SEED must be a non-negative integer, got \(text)")
            seeds = [seed]
        } else {
            let text = environment["BGCOPY_MODEL_SEQUENCES"] ?? (backend == .sqlite ? "1000" : "50")
            let count = try #require(UInt64(text).flatMap { $0 > 0 ? $0 : nil }, "BGCOPY_MODEL_SEQUENCES must be a positive integer, got \(text)")
            seeds = Array(1...count)
        }
        let started = ContinuousClock.now
        let results =
            switch backend {
            case .sqlite: await Self.runOnThreads(seeds)
            case .postgres: try await Self.runOnPostgres(seeds)
            }
        let failures = results.filter { $0.failure != nil }
        for failure in failures.prefix(3) {
            Issue.record(Comment(rawValue: failure.failure!))
        }
        if failures.count > 3 {
            Issue.record("\(failures.count) sequences disagree with the model; seeds: \(failures.map(\.seed).map(String.init).joined(separator: ", "))")
        }
        let operations = results.reduce(0) { $0 + $1.operations }
        if environment["BGCOPY_MODEL_STATS"] != nil {
            var tally: [String: (count: Int, firstSeed: UInt64)] = [:]
            for result in results {
                for (key, count) in result.tally {
                    tally[key] = ((tally[key]?.count ?? 0) + count, min(tally[key]?.firstSeed ?? .max, result.seed))
                }
            }
            for (key, entry) in tally.sorted(by: { $0.key < $1.key }) { print("  \(key): \(entry.count) (first in seed \(entry.firstSeed))") }
        }
        let range = seeds.count == 1 ? "seed \(seeds[0])" : "seeds \(seeds.first!)...\(seeds.last!)"
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "model-based (\(backend)): \(results.count) sequences, \(operations) operations, \(range)"
                + " (\(failures.count) failing, \(String(format: "%.1f", seconds)) s)")
    }
}

extension ModelBasedTests {
    /// Runs the sequences on their own threads, two per core: each sequence waits on its
    /// database's fsyncs now and then, and the cooperative pool must not be blocked by that.
    static func runOnThreads(_ seeds: [UInt64]) async -> [SequenceResult] {
        let workers = max(1, min(8, 2 * ProcessInfo.processInfo.activeProcessorCount, seeds.count))
        let state = Mutex((next: 0, running: workers, results: [SequenceResult]()))
        return await withCheckedContinuation { (continuation: CheckedContinuation<[SequenceResult], Never>) in
            for _ in 0..<workers {
                let thread = Thread {
                    while true {
                        let index = state.withLock { state in
                            defer { state.next += 1 }
                            return state.next
                        }
                        guard index < seeds.count else { break }
                        let result = SequenceRunner.run(seed: seeds[index])
                        state.withLock { $0.results.append(result) }
                    }
                    let finished: [SequenceResult]? = state.withLock { state in
                        state.running -= 1
                        return state.running == 0 ? state.results.sorted { $0.seed < $1.seed } : nil
                    }
                    if let finished { continuation.resume(returning: finished) }
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
        }
    }
}

extension ModelBasedTests {
    /// Runs the sequences one after the other, each against a fresh database of the process's
    /// throwaway PostgreSQL cluster, on a thread of its own that waits for each call.
    static func runOnPostgres(_ seeds: [UInt64]) async throws -> [SequenceResult] {
        var results: [SequenceResult] = []
        for seed in seeds {
            let scratch = try SequenceRunner.scratch()
            let result = try await PostgresQueue.with(migrate: false) { queue in
                // Leases that outlast any sequence: the model has one host, which never loses a file to a takeover.
                let manager = try await PostgresQueueManager(
                    client: queue.client, host: "model", leaseDuration: .seconds(3600), configuration: SequenceRunner.configuration,
                    logger: SequenceRunner.quiet)
                let modelQueue = PostgresModelQueue(manager: manager, client: queue.client)
                return await withCheckedContinuation { (continuation: CheckedContinuation<SequenceResult, Never>) in
                    let thread = Thread { continuation.resume(returning: SequenceRunner(seed: seed, scratch: scratch, queue: modelQueue).run()) }
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            }
            results.append(result)
        }
        return results
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`, by modulo: fixed forever, unlike the standard library's algorithms.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func percent(_ chance: Int) -> Bool { below(100) < chance }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func uuid() -> UUID {
        let (high, low) = (next(), next())
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
        }
        return UUID(uuid: bytes)
    }
}

struct SequenceResult: Sendable {
    let seed: UInt64
    let operations: Int
    let failure: String?
    /// How often each kind of operation had each outcome, and each group state was reached.
    var tally: [String: Int] = [:]
}

/// A read-only raw SQLite connection kept open for a whole sequence (WAL: it sees every commit).
final class RawReader {
    private let db: OpaquePointer

    init(_ path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            throw QueueError(.storage, "cannot open \(path) read-only")
        }
        db = handle
    }

    deinit { sqlite3_close_v2(db) }

    /// Every row, its columns joined by `|`, NULL as `NULL`.
    func rows(_ sql: String) throws -> [String] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw QueueError(.storage, String(cString: sqlite3_errmsg(db)), sql: sql)
        }
        defer { sqlite3_finalize(statement) }
        var rows: [String] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw QueueError(.storage, String(cString: sqlite3_errmsg(db)), sql: sql) }
            rows.append(
                (0..<sqlite3_column_count(statement)).map { column in
                    sqlite3_column_type(statement, column) == SQLITE_NULL ? "NULL" : String(cString: sqlite3_column_text(statement, column))
                }.joined(separator: "|"))
        }
        return rows
    }
}
