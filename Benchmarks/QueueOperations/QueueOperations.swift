import Benchmark
import BenchmarkSupport

/// Every queue operation under both durability settings, on a queue holding a backlog of 1,000
/// files, each beside the same SQL issued through the raw sqlite3 C API (`… (raw)`).
let benchmarks: @Sendable () -> Void = {
    let backlog = Filler(files: 1_000)
    Scenario(label: "full", durability: .full, backlog: backlog).register(QueueOperation.allCases)
    Scenario(label: "relaxed", durability: .relaxed, backlog: backlog).register(QueueOperation.allCases)
}
