import Logging
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// swift-log's rules for libraries: log at info or below, and print nothing a host did not ask for.
@Suite("Logging: levels and the default logger", .alone)
struct LoggingTests {
    /// Refuses the first offer of each event, then accepts it.
    final class Reluctant: QueueObserver {
        let refused = Mutex<Set<Int64>>([])

        func queueManager(_ manager: QueueManager, didRecord event: QueueEvent) async throws {
            let first = refused.withLock { $0.insert(event.sequence).inserted }
            if first { throw CancellationError() }
        }
    }

    /// The scratch's recording logger, recording every level.
    static func everything(_ scratch: Scratch) -> Logger {
        var logger = scratch.logger
        logger.logLevel = .trace
        return logger
    }

    @Test func outsideAWithLoggerScopeTheQueueLogsNothing() throws {
        let scratch = Scratch()
        let manager = try QueueManager(path: scratch.database)
        #expect(manager.core.logger.handler is SwiftLogNoOpLogHandler, "swift-log's unbound default would print on stderr")
    }

    @Test func theLoggerOfAnEnclosingWithLoggerScopeIsUsed() throws {
        let scratch = Scratch()
        let manager = try withLogger(Self.everything(scratch)) { _ in try QueueManager(path: scratch.database) }
        #expect(manager.core.logger.label == "BackgroundCopyTests")
        try manager.createGroup(properties: GroupProperties(displayName: "a")).cancel()
        #expect(scratch.log.entries.contains { $0.message.description == "group cancelled" && $0.level == .debug })
    }

    @Test func runningTheEngineCancellingAndARefusingObserverLogNothingAboveInfo() async throws {
        let scratch = Scratch()
        let manager = try QueueManager(
            path: scratch.database, configuration: scratch.engineConfiguration(),
            logger: Self.everything(scratch))
        let group = try await manager.createGroup(properties: GroupProperties(displayName: "a", notifyFlags: .all.subtracting(.disable)))
        try await group.createJob().addFiles([FileSpec(remote: "file://" + scratch.source("a.src", size: 1000), local: scratch.path("a"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        let observer = Reluctant()
        let delivery = Task { try await manager.deliverEvents(to: observer, as: "reluctant", redeliveryDelay: .milliseconds(10)) }
        #expect(try await eventually { try group.status().state == .complete })
        #expect(try await eventually { observer.refused.withLock { $0.count } >= 3 })
        try await group.cancel()
        await engine.stop()
        delivery.cancel()
        _ = try? await delivery.value

        let entries = scratch.log.entries
        #expect(entries.contains { $0.message.description == "observer did not accept an event; offering it again later" })
        #expect(entries.contains { $0.message.description == "transfer engine started" })
        let loud = entries.filter { $0.level > .info }
        #expect(loud.isEmpty, "logged above info: \(loud.map { "\($0.level) \($0.message)" })")
    }
}
