import BackgroundCopy
import Benchmark

/// A queue to measure operations on: its durability setting and the backlog it already holds.
/// Benchmarks are named `<label>: <operation>`, and `<label>: <operation> (raw)` for the ceiling.
package struct Scenario: Sendable {
    package let label: String
    package let durability: QueueManager.Durability
    package let backlog: Filler

    package init(label: String, durability: QueueManager.Durability, backlog: Filler) {
        self.label = label
        self.durability = durability
        self.backlog = backlog
    }

    /// Every sample is one call; a benchmark stops after ``QueueOperation/maxSamples`` samples or 2 s.
    package static var configuration: Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.wallClock, .throughput],
            warmupIterations: QueueOperation.warmup,
            scalingFactor: .one,
            maxDuration: .seconds(2),
            maxIterations: QueueOperation.maxSamples
        )
    }

    /// Registers the library benchmark and its raw ceiling for each of `operations`.
    package func register(_ operations: [QueueOperation]) {
        for operation in operations {
            let name = "\(label): \(operation.rawValue)"
            let (durability, backlog) = (durability, backlog)
            let library = DatabaseFile()
            Benchmark(
                name, configuration: Self.configuration, closure: Self.measure,
                setup: {
                    try operation.step(.library, durability: durability, backlog: backlog, database: library)
                }, teardown: library.remove)
            let raw = DatabaseFile()
            Benchmark(
                name + " (raw)", configuration: Self.configuration, closure: Self.measure,
                setup: {
                    try operation.step(.raw, durability: durability, backlog: backlog, database: raw)
                }, teardown: raw.remove)
        }
    }

    /// Runs one sample: the step's preparation, the measured call, the step's clean-up.
    static func measure(_ benchmark: Benchmark, _ step: Step) {
        step.prepare()
        benchmark.startMeasurement()
        step.run()
        benchmark.stopMeasurement()
        step.finish()
    }
}

/// The database one benchmark works on, created by its setup and deleted by its teardown.
package final class DatabaseFile: @unchecked Sendable {
    // Written by the benchmark's setup and read by its teardown, which the runner calls in turn on one thread.
    private var path: String?

    package init() {}

    package func create(_ filler: Filler) -> String {
        let path = Workspace.database(filler)
        self.path = path
        return path
    }

    package func remove() {
        if let path { Workspace.remove(path) }
        path = nil
    }
}
