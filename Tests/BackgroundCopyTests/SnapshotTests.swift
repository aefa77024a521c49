import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Snapshots: a group or the whole queue in one read", .alongside)
struct SnapshotTests {
    @Test func aGroupSnapshotAgreesWithTheSeparateCalls() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "snap", priority: .high))
        let first = try group.createJob()
        try first.addFiles(scratch.specs(3, prefix: "a", sizeHint: 100))
        let second = try group.createJob()
        try second.addFiles(scratch.specs(2, prefix: "b"))
        let snapshot = try group.snapshot()
        #expect(snapshot.id == group.id)
        #expect(snapshot.properties == (try group.properties()))
        #expect(snapshot.status == (try group.status()))
        #expect(snapshot.progress == (try group.progress()))
        #expect(snapshot.jobs.map(\.job) == (try group.jobs()))
        #expect(snapshot.jobs.map(\.progress) == [try first.progress(), try second.progress()])
        #expect(snapshot.jobs.map(\.currentFileIndex) == [0, 0])
    }

    @Test func summariesListEveryLiveGroupInCreationOrder() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let groups = try (0..<5).map { try manager.createGroup(properties: GroupProperties(displayName: "g\($0)")) }
        try await groups[2].cancel()
        let summaries = try await manager.summaries()
        #expect(summaries.map(\.id) == [0, 1, 3, 4].map { groups[$0].id })
        #expect(summaries.map(\.properties.displayName) == ["g0", "g1", "g3", "g4"])
        #expect(try await manager.summaries().map(\.id) == summaries.map(\.id))
        #expect(throws: QueueError.self) { try groups[2].snapshot() }
    }

    @Test func lastEventSequenceIsTheNewestRecordedEvent() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        #expect(try manager.lastEventSequence() == 0)
        let group = try manager.createGroup(properties: GroupProperties(displayName: "g"))
        try group.createJob().addFiles(scratch.specs(1))
        #expect(try manager.lastEventSequence() == (try manager.recordedEvents().last?.sequence))
    }
}
