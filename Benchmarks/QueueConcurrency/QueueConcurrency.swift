import BackgroundCopy
import Benchmark
import BenchmarkSupport

/// 1, 4, 16 and 64 threads calling the queue at once on one `QueueManager`, under both durability
/// settings. One sample is one round — every caller makes its calls — so a round's time is the
/// latency of the slowest caller, and calls ÷ round time is the throughput (`summarize.py` reports
/// calls/s).
///
/// - `createGroup ×N callers`: each caller creates one group per round.
/// - `mixed ×N callers`: each caller creates a group, a job, adds one file and resumes the group
///   (four calls, four transactions) per round.
///
/// The store commits the calls that wait for the writer together (group commit): under `.full`
/// one fsync covers a whole batch, so more callers means fewer fsyncs per call.
let benchmarks: @Sendable () -> Void = {
    for durability in [QueueManager.Durability.full, .relaxed] {
        let label = durability == .full ? "full" : "relaxed"
        for callers in [1, 4, 16, 64] {
            let database = DatabaseFile()
            Benchmark(
                "\(label): createGroup ×\(callers) callers", configuration: Scenario.configuration,
                closure: { _, pool in
                    pool.round()
                },
                setup: {
                    let manager = try QueueManager(path: database.create(Filler(files: 1_000)), configuration: Workspace.configuration(durability))
                    let properties = GroupProperties(displayName: "benchmark")
                    return CallerPool(count: callers) { _ in _ = try! manager.createGroup(properties: properties) }
                }, teardown: database.remove)
        }
        for callers in [1, 4, 16, 64] {
            let database = DatabaseFile()
            Benchmark(
                "\(label): mixed ×\(callers) callers", configuration: Scenario.configuration,
                closure: { _, pool in
                    pool.round()
                },
                setup: {
                    let manager = try QueueManager(path: database.create(Filler(files: 1_000)), configuration: Workspace.configuration(durability))
                    let properties = GroupProperties(displayName: "benchmark")
                    // Each caller uses only its own FileNames, from its own thread.
                    nonisolated(unsafe) let names = (0..<callers).map { FileNames("mixed\(callers)c\($0)") }
                    return CallerPool(count: callers) { caller in
                        let group = try! manager.createGroup(properties: properties)
                        try! group.createJob().addFiles(names[caller].specs(1))
                        try! group.resume()
                    }
                }, teardown: database.remove)
        }
    }
}
