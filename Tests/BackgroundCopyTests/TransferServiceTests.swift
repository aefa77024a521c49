import Foundation
import Logging
import ServiceLifecycle
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Hosting: the engine as a swift-service-lifecycle Service", .alone)
struct TransferServiceTests {
    @Test func gracefulShutdownCheckpointsEveryTransferAndTheServiceGroupReturns() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport()
        let (manager, group) = try EngineControlTests.slowTransfer(scratch, transport)
        let services = ServiceGroup(services: [TransferService(manager)], logger: scratch.logger)
        let running = Task { try await services.run() }
        #expect(try await eventually { try EngineControlTests.committed(scratch) >= 256 << 10 })

        await services.triggerGracefulShutdown()
        try await running.value
        let kept = try EngineControlTests.committed(scratch)
        #expect(kept > 0)
        #expect(try EngineControlTests.tempSize(scratch) == UInt64(kept), "the temp file holds exactly the committed bytes")
        #expect(try await group.status().state == .queued, "a stopped engine leaves the group's work queued")

        let again = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(20)) { try group.status().state == .complete })
        #expect(await again.stop() == nil, "the service released the engine lock")
        #expect(scratch.contents("big") == pattern(4 << 20))
        #expect(transport.attempts.withLock { $0.map(\.offset) } == [0, UInt64(kept)], "the next run resumed at the checkpoint")
    }

    @Test func aServiceOnAQueueWhoseEngineRunsElsewhereFailsItsGroupWithInvalidState() async throws {
        let scratch = Scratch()
        let (manager, _) = try EngineControlTests.slowTransfer(scratch, RecordingTransport())
        let engine = RunningEngine(manager)
        #expect(try await eventually { try EngineControlTests.committed(scratch) > 0 }, "the first engine runs")
        let services = ServiceGroup(services: [TransferService(try scratch.open())], logger: scratch.logger)
        let error = await #expect(throws: QueueError.self) { try await services.run() }
        #expect(error?.code == .invalidState)
        #expect(await engine.stop() == nil)
    }
}
