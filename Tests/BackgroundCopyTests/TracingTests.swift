import Foundation
import InMemoryTracing
import Testing
import Tracing
import TestScheduling
@testable import BackgroundCopy

@Suite("Tracing: one span per attempt at a file through swift-distributed-tracing", .alone)
struct TracingTests {
    @Test func eachFileTransferEndsOneSpanWithItsGroupPlaceBytesAndOutcome() async throws {
        let scratch = Scratch()
        let tracer = InMemoryTracer()
        var configuration = scratch.engineConfiguration()
        configuration.tracer = tracer
        let manager = try scratch.open(configuration)
        let run = try await ObservedRun.queue(on: manager, in: scratch)
        try await run.run(RunningEngine(manager))

        let spans = tracer.finishedSpans
        #expect(spans.count == 4)
        #expect(spans.allSatisfy { $0.operationName == "bgcopy.transfer" && $0.kind == .client })
        let good = spans.filter { $0.attributes.get("bgcopy.group.id") == .string(run.good.id.description) }
            .sorted { ($0.attributes.get("bgcopy.file.index")?.int ?? -1) < ($1.attributes.get("bgcopy.file.index")?.int ?? -1) }
        try #require(good.count == 3)
        for (index, span) in good.enumerated() {
            #expect(span.attributes.get("bgcopy.file.index") == .int64(Int64(index)))
            #expect(span.attributes.get("bgcopy.job.index") == .int64(0))
            #expect(span.attributes.get("bgcopy.job.id") == .string(run.job.id.description))
            #expect(span.attributes.get("bgcopy.file.bytes") == .int64(Int64(ObservedRun.sizes[index])))
            #expect(span.attributes.get("bgcopy.file.bytes_received") == .int64(Int64(ObservedRun.sizes[index])))
            #expect(span.attributes.get("bgcopy.transfer.outcome") == .string("completed"))
            #expect(span.attributes.get("url.scheme") == .string("file"))
            #expect(span.status == nil)
            #expect(span.errors.isEmpty)
        }
    }

    @Test func aFileThatFailsEndsItsSpanWithAnErrorStatusAndTheRecordedError() async throws {
        let scratch = Scratch()
        let tracer = InMemoryTracer()
        var configuration = scratch.engineConfiguration()
        configuration.tracer = tracer
        let manager = try scratch.open(configuration)
        let run = try await ObservedRun.queue(on: manager, in: scratch)
        try await run.run(RunningEngine(manager))

        let failed = tracer.finishedSpans.filter { $0.attributes.get("bgcopy.group.id") == .string(run.bad.id.description) }
        try #require(failed.count == 1)
        let span = failed[0]
        #expect(span.attributes.get("bgcopy.transfer.outcome") == .string("failed"))
        #expect(span.attributes.get("bgcopy.file.index") == .int64(0))
        #expect(span.status?.code == .error)
        #expect(span.status?.message?.contains("SHA-256") == true)
        #expect((span.errors.first?.error as? QueueError)?.code == .validationFailed)
    }

    @Test func transferSpansAreChildrenOfTheContextCurrentWhenRunStarted() async throws {
        let scratch = Scratch()
        let tracer = InMemoryTracer()
        var configuration = scratch.engineConfiguration()
        configuration.tracer = tracer
        let manager = try scratch.open(configuration)
        let run = try await ObservedRun.queue(on: manager, in: scratch)
        let host = tracer.startSpan("host service")
        let engine = ServiceContext.withValue(host.context) { RunningEngine(manager) }
        try await run.run(engine)
        host.end()

        let transfers = tracer.finishedSpans.filter { $0.operationName == "bgcopy.transfer" }
        #expect(transfers.count == 4)
        #expect(transfers.allSatisfy { $0.traceID == host.traceID && $0.parentSpanID == host.spanID })
    }

    @Test func aRetriedAttemptAndTheOneThatCompletesAreTwoSpans() async throws {
        let scratch = Scratch()
        let tracer = InMemoryTracer()
        let transport = RecordingTransport(failures: [QueueError(.transfer, "HTTP 503", httpStatus: 503, isTransient: true)])
        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.tracer = tracer
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("flaky"))
        try await group.createJob().addFiles([FileSpec(remote: "test://" + scratch.source("a.src", size: 10_000), local: scratch.path("a"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()

        let outcomes = tracer.finishedSpans.map { $0.attributes.get("bgcopy.transfer.outcome") }
        #expect(outcomes == [.string("retry"), .string("completed")])
        let retried = tracer.finishedSpans[0]
        #expect(retried.status?.code == .error)
        #expect(retried.attributes.get("http.response.status_code") == .int64(503))
        #expect(retried.attributes.get("url.scheme") == .string("test"))
        #expect(tracer.finishedSpans[1].attributes.get("bgcopy.file.retries") == .int64(1))
    }
}

extension SpanAttribute {
    /// The value of an integer attribute.
    fileprivate var int: Int64? {
        if case .int64(let value) = self { return value }
        return nil
    }
}
