import BackgroundCopy
import Benchmark
import BenchmarkSupport

/// 1, 4 and 16 threads calling `createGroup` at once on one `QueueManager`, under both durability
/// settings. One sample is one round — every caller makes one call — so a round's time is the
/// latency of the slowest caller and callers ÷ round time is the throughput.
///
/// The store has one writer connection behind a mutex and commits each call on its own (no group
/// commit), so concurrent callers queue for it: this measures what that costs them.
let benchmarks: @Sendable () -> Void = {
    for durability in [QueueManager.Durability.full, .relaxed] {
        for callers in [1, 4, 16] {
            let label = durability == .full ? "full" : "relaxed"
            let database = DatabaseFile()
            Benchmark("\(label): createGroup ×\(callers) callers", configuration: Scenario.configuration, closure: { _, pool in
                pool.round()
            }, setup: {
                let manager = try QueueManager(path: database.create(Filler(files: 1_000)), configuration: Workspace.configuration(durability))
                let properties = GroupProperties(displayName: "benchmark")
                return CallerPool(count: callers) { _ = try! manager.createGroup(properties: properties) }
            }, teardown: database.remove)
        }
    }
}
