import Benchmark
import BenchmarkSupport
import Foundation

/// The single-call operations (relaxed durability, where SQLite rather than fsync is the cost) on
/// queues that already hold 100,000 and 1,000,000 files; QueueOperations' `relaxed` run is the
/// 1,000-file row. `BGCOPY_BENCH_MAX_FILES` lowers the largest backlog (for a quick run).
let benchmarks: @Sendable () -> Void = {
    let largest = ProcessInfo.processInfo.environment["BGCOPY_BENCH_MAX_FILES"].flatMap(Int.init) ?? 1_000_000
    for (label, files) in [("100k", 100_000), ("1M", 1_000_000)] where files <= largest {
        Scenario(label: label, durability: .relaxed, backlog: Filler(files: files)).register(QueueOperation.singleCall)
    }
}
