import CoreMetrics
import Foundation
import MetricsTestKit
import Testing
import Tracing
import TestScheduling
@testable import BackgroundCopy

/// Two groups over real local sources: one of three files that completes, one whose single file
/// fails its SHA-256 check. What the engine ran, for the metrics and tracing suites.
struct ObservedRun {
    static let sizes = [300_000, 1, 70_000]
    static let failingSize = 50_000

    let good: Group
    let bad: Group
    let job: Job

    /// Queues both groups on `manager` (opened in `scratch`) and resumes them.
    static func queue(on manager: QueueManager, in scratch: Scratch) async throws -> ObservedRun {
        let good = try await manager.createGroup(properties: quickRetries("good"))
        let job = try await good.createJob()
        try await job.addFiles(
            sizes.enumerated().map { index, size in
                FileSpec(remote: "file://" + scratch.source("src\(index)", size: size, seed: UInt8(index + 1)), local: scratch.path("out\(index)"))
            })
        let bad = try await manager.createGroup(properties: quickRetries("bad"))
        let wrong = String(repeating: "0", count: 64)
        try await bad.createJob().addFiles([FileSpec(remote: scratch.source("bad.src", size: failingSize), local: scratch.path("bad"), sha256: wrong)])
        try await good.resume()
        try await bad.resume()
        return ObservedRun(good: good, bad: bad, job: job)
    }

    /// Runs the engine until both groups have settled, then stops it.
    func run(_ engine: RunningEngine) async throws {
        #expect(try await eventually { try good.status().state == .complete && bad.status().state == .error })
        #expect(await engine.stop() == nil)
    }
}

@Suite("Metrics: the store's commits and the engine's transfers through swift-metrics", .alone)
struct MetricsTests {
    @Test func anEngineRunCountsCompletedAndFailedFilesTheirBytesAndEndsWithNothingInFlight() async throws {
        let scratch = Scratch()
        let metrics = TestMetrics()
        var configuration = scratch.engineConfiguration()
        configuration.metricsFactory = metrics
        let manager = try scratch.open(configuration)
        let run = try await ObservedRun.queue(on: manager, in: scratch)
        try await run.run(RunningEngine(manager))

        #expect(try metrics.expectCounter("bgcopy_files_completed_total").totalValue == 3)
        #expect(try metrics.expectCounter("bgcopy_files_failed_total", [("reason", "validation")]).totalValue == 1)
        #expect(metrics.counterTotal(label: "bgcopy_files_failed_total") == 1)
        #expect(metrics.counterTotal(label: "bgcopy_retries_total") == 0)
        let received = ObservedRun.sizes.reduce(0, +) + ObservedRun.failingSize
        #expect(try metrics.expectCounter("bgcopy_bytes_transferred_total").totalValue == Int64(received))

        let inFlight = try metrics.expectMeter("bgcopy_files_in_flight")
        #expect(inFlight.lastValue == 0)
        #expect(inFlight.values.contains(1))
        #expect(try metrics.expectTimer("bgcopy_time_to_first_byte_seconds").values.count == 4)
        #expect(try metrics.expectTimer("bgcopy_file_transfer_duration_seconds", [("outcome", "completed")]).values.count == 3)
        #expect(try metrics.expectTimer("bgcopy_file_transfer_duration_seconds", [("outcome", "failed")]).values.count == 1)
        #expect(try metrics.expectMeter("bgcopy_groups", [("state", "complete")]).lastValue == 1)
        #expect(try metrics.expectMeter("bgcopy_groups", [("state", "error")]).lastValue == 1)
        #expect(try metrics.expectMeter("bgcopy_groups", [("state", "transferring")]).lastValue == 0)
    }

    @Test func everyCommitOfTheWriterIsCountedAndTimedWithItsDurability() async throws {
        let scratch = Scratch()
        let metrics = TestMetrics()
        var configuration = QueueManager.Configuration()
        configuration.durability = .relaxed
        configuration.metricsFactory = metrics
        let manager = try scratch.open(configuration)
        let before = metrics.counterTotal(label: "bgcopy_commits_total")
        for index in 0..<5 { _ = try await manager.createGroup(properties: GroupProperties(displayName: "g\(index)")) }

        let committed = try metrics.expectCounter("bgcopy_commits_total", [("durability", "relaxed"), ("outcome", "committed")])
        #expect(committed.totalValue - before == 5)
        let timer = try metrics.expectTimer("bgcopy_commit_duration_seconds", [("durability", "relaxed")])
        #expect(timer.values.count == Int(committed.totalValue))
        #expect(timer.values.allSatisfy { $0 > 0 })
        let calls = try metrics.expectRecorder("bgcopy_commit_calls", [("durability", "relaxed")])
        #expect(calls.values.suffix(5) == [1, 1, 1, 1, 1])
        #expect(metrics.counters(label: "bgcopy_commits_total", dimensions: [("outcome", "failed")]).allSatisfy { $0.totalValue == 0 })
    }

    @Test func aTransientFailureCountsOneRetryThenTheFileCompletes() async throws {
        let scratch = Scratch()
        let metrics = TestMetrics()
        let transport = RecordingTransport(failures: [QueueError(.transfer, "connection reset", isTransient: true)])
        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.metricsFactory = metrics
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("flaky"))
        try await group.createJob().addFiles([FileSpec(remote: "test://" + scratch.source("a.src", size: 10_000), local: scratch.path("a"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()

        #expect(try metrics.expectCounter("bgcopy_retries_total", [("cause", "transfer")]).totalValue == 1)
        #expect(try metrics.expectCounter("bgcopy_files_completed_total").totalValue == 1)
        #expect(try metrics.expectTimer("bgcopy_file_transfer_duration_seconds", [("outcome", "retry")]).values.count == 1)
        #expect(try metrics.expectMeter("bgcopy_files_in_flight").lastValue == 0)
    }

    @Test func withoutABackendOrTracerTheQueueResolvesNoMetricAndOpensNoSpan() {
        var configuration = QueueManager.Configuration()
        configuration.metricsFactory = NOOPMetricsHandler.instance
        configuration.tracer = NoOpTracer()
        #expect(StoreMetrics(factory: configuration.metricsFactory, durability: .full) == nil)
        #expect(EngineObservability(configuration) == nil)
        configuration.metricsFactory = TestMetrics()
        #expect(EngineObservability(configuration)?.tracing == nil)
        #expect(EngineObservability(configuration)?.metrics != nil)
    }

    @Test func metricDimensionsNeverNameAGroupAPathOrAURL() async throws {
        let scratch = Scratch()
        let metrics = TestMetrics()
        var configuration = scratch.engineConfiguration()
        configuration.metricsFactory = metrics
        let manager = try scratch.open(configuration)
        let run = try await ObservedRun.queue(on: manager, in: scratch)
        try await run.run(RunningEngine(manager))

        let dimensions =
            metrics.counters.flatMap(\.dimensions) + metrics.meters.flatMap(\.dimensions)
            + metrics.timers.flatMap(\.dimensions) + metrics.recorders.flatMap(\.dimensions)
        #expect(Set(dimensions.map(\.0)).isSubset(of: ["durability", "outcome", "reason", "cause", "state"]))
        let ids = [run.good.id.description, run.bad.id.description]
        #expect(!dimensions.contains { value in ids.contains(value.1) || value.1.contains("/") })
    }
}
