import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Records every event it is offered; throws for the sequences in `refuse` (once each).
final class RecordingObserver: QueueObserver {
    let offered = Mutex<[QueueEvent]>([])
    let accepted = Mutex<[QueueEvent]>([])
    let refuse: Mutex<Set<Int64>>
    let stopAfter: Int?

    init(refuse: Set<Int64> = [], stopAfter: Int? = nil) {
        self.refuse = Mutex(refuse)
        self.stopAfter = stopAfter
    }

    struct Refused: Error {}

    func queueManager(_ manager: QueueManager, didRecord event: QueueEvent) async throws {
        offered.withLock { $0.append(event) }
        if refuse.withLock({ $0.remove(event.sequence) != nil }) { throw Refused() }
        accepted.withLock { $0.append(event) }
    }
}

@Suite("Events: observers, acknowledgements, redelivery", .alone)
struct ObserverTests {
    /// A queue with two complete groups: one notifying every kind, one with the default flags.
    static func queueWithHistory(_ scratch: Scratch) async throws -> QueueManager {
        let manager = try scratch.open(scratch.engineConfiguration())
        let everything = try await manager.createGroup(
            properties: GroupProperties(
                displayName: "all", notifyFlags: [.fileDone, .jobDone, .groupDone, .error, .modification], retryDelay: .milliseconds(50)))
        try await everything.createJob().addFiles([FileSpec(remote: scratch.source("a", size: 10), local: scratch.path("a.out"))])
        let quiet = try await manager.createGroup(properties: quickRetries("default flags"))
        try await quiet.createJob().addFiles([FileSpec(remote: scratch.source("b", size: 10), local: scratch.path("b.out"))])
        try await everything.resume()
        try await quiet.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.groups().allSatisfy { try $0.status().state == .complete } })
        await engine.stop()
        return manager
    }

    static func deliver(_ manager: QueueManager, to observer: RecordingObserver, as name: String, until count: Int) async throws {
        try await deliver(manager, to: observer, as: name) { $0.count >= count }
    }

    static func deliver(
        _ manager: QueueManager, to observer: RecordingObserver, as name: String,
        until done: @escaping ([QueueEvent]) -> Bool
    ) async throws {
        let delivery = Task { try await manager.deliverEvents(to: observer, as: name, redeliveryDelay: .milliseconds(20)) }
        #expect(await eventually { observer.accepted.withLock { done($0) } })
        delivery.cancel()
        try await delivery.value
    }

    @Test func observersHearWhatTheNotifyFlagsAllowInSequenceOrder() async throws {
        let scratch = Scratch()
        let manager = try await Self.queueWithHistory(scratch)
        let observer = RecordingObserver()
        // Both groups completed; the two completions end the history, in either order.
        try await Self.deliver(manager, to: observer, as: "app") { $0.filter { $0.kind == .groupComplete }.count == 2 }
        let events = observer.accepted.withLock { $0 }
        let names = try events.map { try manager.group($0.groupID).properties().displayName }
        let all = zip(names, events).filter { $0.0 == "all" }.map { $0.1.kind }
        let quiet = zip(names, events).filter { $0.0 == "default flags" }.map { $0.1.kind }
        #expect(all.contains(.groupCreated) && all.contains(.fileComplete) && all.contains(.jobComplete) && all.contains(.groupComplete))
        #expect(quiet == [.groupComplete])
        #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
        #expect(!events.contains { $0.kind == .progress })
        let acked = try query(scratch.database, "SELECT acked_seq FROM observers WHERE name = 'app'")
        #expect(acked == [["\(events.last!.sequence)"]])
    }

    @Test func anEventTheObserverRefusesIsOfferedAgainAndNothingIsSkipped() async throws {
        let scratch = Scratch()
        let manager = try await Self.queueWithHistory(scratch)
        let first = try #require(try manager.recordedEvents().first { $0.kind == .groupComplete })
        let observer = RecordingObserver(refuse: [first.sequence])
        try await Self.deliver(manager, to: observer, as: "picky", until: 7)
        let offered = observer.offered.withLock { $0.map(\.sequence) }
        let accepted = observer.accepted.withLock { $0.map(\.sequence) }
        #expect(offered.filter { $0 == first.sequence }.count == 2)
        #expect(accepted == Array(Set(accepted)).sorted(), "each event accepted once, in order")
        #expect(accepted.contains(first.sequence))
    }

    @Test func deliveryResumesAfterTheLastAcknowledgedEventAfterARestart() async throws {
        let scratch = Scratch()
        let manager = try await Self.queueWithHistory(scratch)
        let before = RecordingObserver()
        try await Self.deliver(manager, to: before, as: "durable", until: 7)
        let seen = before.accepted.withLock { $0.map(\.sequence) }

        let reopened = try scratch.open(scratch.engineConfiguration())
        let group = try await reopened.groups()[0]
        try await group.createJob().addFiles([FileSpec(remote: scratch.source("c", size: 5), local: scratch.path("c.out"))])
        try await group.resume()
        let engine = RunningEngine(reopened)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        let after = RecordingObserver()
        // job created, files added, resumed, file complete, job complete, group complete
        try await Self.deliver(reopened, to: after, as: "durable", until: 6)
        let again = after.accepted.withLock { $0.map(\.sequence) }
        #expect(Set(again).isDisjoint(with: seen), "no acknowledged event is delivered twice")
        #expect(again.allSatisfy { $0 > seen.max()! })
        #expect(after.accepted.withLock { $0.contains { $0.kind == .groupComplete } })
    }

    @Test func theStreamAcknowledgesAnEventWhenTheNextOneIsRequested() async throws {
        let scratch = Scratch()
        let manager = try await Self.queueWithHistory(scratch)
        var iterator = manager.events(as: "stream").makeAsyncIterator()
        let first = try #require(await iterator.next())
        #expect(try query(scratch.database, "SELECT acked_seq FROM observers WHERE name = 'stream'") == [["0"]])
        let second = try #require(await iterator.next())
        #expect(second.sequence > first.sequence)
        #expect(try query(scratch.database, "SELECT acked_seq FROM observers WHERE name = 'stream'") == [["\(first.sequence)"]])

        var restarted = try scratch.open().events(as: "stream").makeAsyncIterator()
        #expect(await restarted.next()?.sequence == second.sequence, "the unacknowledged event comes again")
    }

    @Test func aGroupWithNotificationsDisabledIsSilent() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await manager.createGroup(
            properties: GroupProperties(displayName: "silent", notifyFlags: [.groupDone, .disable], retryDelay: .milliseconds(50)))
        try await group.createJob().addFiles([FileSpec(remote: scratch.source("a", size: 10), local: scratch.path("a.out"))])
        try await group.resume()
        let loud = try await manager.createGroup(properties: quickRetries("loud"))
        try await loud.createJob().addFiles([FileSpec(remote: scratch.source("b", size: 10), local: scratch.path("b.out"))])
        try await loud.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete && loud.status().state == .complete })
        await engine.stop()
        let observer = RecordingObserver()
        try await Self.deliver(manager, to: observer, as: "ears", until: 1)
        #expect(observer.accepted.withLock { $0.allSatisfy { $0.groupID == loud.id } })
        #expect(try manager.recordedEvents().contains { $0.groupID == group.id && $0.kind == .groupComplete })
    }
}
