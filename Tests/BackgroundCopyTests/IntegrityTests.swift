import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Integrity check", .alongside)
struct IntegrityTests {
    @Test func aSoundQueueHasNoProblems() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        try manager.createGroup(properties: GroupProperties(displayName: "a")).createJob().addFiles(scratch.specs(3))
        #expect(try manager.checkIntegrity() == [])
    }

    @Test func aRowThatRefersToAMissingRowIsReported() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        try orphanJob(scratch.database)
        let problems = try manager.checkIntegrity()
        #expect(problems.count == 1)
        #expect(problems.first?.hasSuffix("of table jobs refers to a missing row of groups") == true, "\(problems)")
    }

    @Test func theAsyncFormFindsTheSameProblems() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        #expect(try await manager.checkIntegrity() == [])
        try orphanJob(scratch.database)
        #expect(try await manager.checkIntegrity().count == 1)
    }
}
