import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The operations table of DESIGN.md, row by row, and every error each row names.
/// Each test opens its own scratch database; the engine side is driven through the real
/// `TransferLedger` store operations (`transferNextFile`), never over the network.
@Suite("Operations", .alongside)
struct OperationsTests {}

// MARK: - Helpers

/// A scratch directory and a queue opened in it; the manager keeps the scratch alive.
struct OperationsFixture {
    let scratch: Scratch
    let manager: QueueManager

    init(_ configuration: QueueManager.Configuration = .init()) throws {
        scratch = Scratch()
        manager = try scratch.open(configuration)
    }

    var database: String { scratch.database }

    func digest() throws -> String { try tableDigest(scratch.database) }

    /// A new group holding one job with `count` files named `prefix0`, `prefix1`, …
    func groupWithFiles(_ count: Int, prefix: String, sizeHint: UInt64? = nil, properties: GroupProperties = operationProps()) throws -> (Group, Job) {
        let group = try manager.createGroup(properties: properties)
        let job = try group.createJob()
        try job.addFiles(scratch.specs(count, prefix: prefix, sizeHint: sizeHint))
        return (group, job)
    }

    /// A group whose `count` files were all transferred: state `complete`.
    func completeGroup(_ count: Int, prefix: String) throws -> (Group, Job) {
        let (group, job) = try groupWithFiles(count, prefix: prefix)
        try group.resume()
        for _ in 0..<count { try #require(try transferNextFile(manager, content: operationContent) != nil) }
        return (group, job)
    }

    /// The `groups.id` of a group, for raw queries.
    func rowID(_ group: Group) throws -> String {
        let rows = try query(database, "SELECT id FROM groups WHERE uuid = x'\(group.id.uuid.bytes.hexString)'")
        return try #require(rows.first?.first)
    }

    /// The `jobs.id` of a job, for raw queries.
    func rowID(_ job: Job) throws -> String {
        let rows = try query(database, "SELECT id FROM jobs WHERE uuid = x'\(job.id.uuid.bytes.hexString)'")
        return try #require(rows.first?.first)
    }

    /// The kind and detail of every event of a group, in sequence order.
    func events(_ group: Group) throws -> [(kind: String, detail: String)] {
        try query(database, "SELECT kind, detail FROM events WHERE group_id = \(rowID(group)) ORDER BY seq").map { ($0[0], $0[1]) }
    }

    func eventKinds(_ group: Group) throws -> [String] { try events(group).map(\.kind) }

    /// The state of each file of a job, by position.
    func fileStates(_ job: Job) throws -> [String] {
        try query(database, "SELECT state FROM files WHERE job_id = \(rowID(job)) ORDER BY position").map { $0[0] }
    }

    func count(_ sql: String) throws -> Int {
        Int(try #require(try query(database, sql).first?.first)) ?? -1
    }
}

func operationProps(_ name: String = "operations", priority: Priority = .normal) -> GroupProperties {
    GroupProperties(displayName: name, priority: priority)
}

let operationContent: [UInt8] = Array(repeating: 0x5A, count: 100)

/// Runs `body`, which must throw a `QueueError` with `code`; returns the error for further checks.
@discardableResult
func expectError<T>(
    _ code: QueueError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> QueueError? {
    do {
        let value = try body()
        Issue.record("expected a \(code) error, but the call returned \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as QueueError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a QueueError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - createGroup

extension OperationsTests {
    @Suite("createGroup")
    struct CreateGroup {
        @Test func createGroupMakesASuspendedGroup() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(try query(f.database, "SELECT state FROM groups") == [["suspended"]])
        }

        @Test func createGroupWithoutIDGeneratesADistinctID() throws {
            let f = try OperationsFixture()
            let first = try f.manager.createGroup(properties: operationProps("a"))
            let second = try f.manager.createGroup(properties: operationProps("b"))
            #expect(first.id != second.id)
            #expect(try f.manager.group(first.id) == first)
            #expect(try f.manager.group(second.id) == second)
        }

        @Test func createGroupWithCallerIDUsesThatID() throws {
            let f = try OperationsFixture()
            let id = try #require(GroupID("E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
            let group = try f.manager.createGroup(id: id, properties: operationProps())
            #expect(group.id == id)
            #expect(try f.manager.group(id).id == id)
            #expect(try query(f.database, "SELECT hex(uuid) FROM groups") == [["E621E1F8C36C495A93FC0C247A3E6E5F"]])
        }

        @Test func createGroupWithTakenIDThrowsAlreadyExists() throws {
            let f = try OperationsFixture()
            let id = GroupID()
            try f.manager.createGroup(id: id, properties: operationProps("original"))
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: operationProps("second")) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try f.manager.group(id).properties().displayName == "original")
        }

        @Test func createGroupWithCancelledGroupIDThrowsAlreadyExists() throws {
            let f = try OperationsFixture()
            let id = GroupID()
            try f.manager.createGroup(id: id, properties: operationProps()).cancel()
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: operationProps()) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try f.manager.groups().isEmpty)
        }

        @Test(arguments: ["", String(repeating: "n", count: 257), "bell\u{07}"])
        func createGroupWithInvalidDisplayNameThrowsInvalidArgumentAndWritesNothing(name: String) throws {
            let f = try OperationsFixture()
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try f.manager.createGroup(properties: operationProps(name)) }
            #expect(error?.value == name)
            #expect(try f.digest() == before)
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func createGroupAcceptsA256CharacterDisplayName() throws {
            let f = try OperationsFixture()
            let name = String(repeating: "é", count: 256)
            let group = try f.manager.createGroup(properties: operationProps(name))
            #expect(try group.properties().displayName == name)
        }

        @Test func createGroupRecordsAGroupCreatedEvent() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let rows = try query(f.database, "SELECT kind, state, job_id FROM events WHERE group_id = \(f.rowID(group))")
            #expect(rows == [["groupCreated", "suspended", "NULL"]])
        }
    }
}

// MARK: - group(id), groups(), jobs()

extension OperationsTests {
    @Suite("group(id), groups(), jobs()")
    struct Lookup {
        @Test func groupWithUnknownIDThrowsNotFound() throws {
            let f = try OperationsFixture()
            try f.manager.createGroup(properties: operationProps())
            let unknown = GroupID()
            let error = expectError(.notFound) { try f.manager.group(unknown) }
            #expect(error?.value == unknown.description)
        }

        @Test func groupWithCancelledIDThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.cancel()
            expectError(.notFound) { try f.manager.group(group.id) }
        }

        @Test func groupOpensALiveGroupAsAnEqualHandle() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps("opened"))
            let opened = try f.manager.group(group.id)
            #expect(opened == group)
            #expect(try opened.properties().displayName == "opened")
        }

        @Test func groupsListsLiveGroupsInCreationOrder() throws {
            let f = try OperationsFixture()
            // Random IDs, so creation order is not the IDs' order.
            let created = try (0..<6).map { index in try f.manager.createGroup(properties: operationProps("g\(index)")) }
            let groups = try f.manager.groups()
            #expect(groups.map(\.id) == created.map(\.id))
        }

        @Test func groupsArrayServesAsTheEnumerator() throws {
            let f = try OperationsFixture()
            let created = try (0..<5).map { index in try f.manager.createGroup(properties: operationProps("g\(index)")) }
            let groups = try f.manager.groups()
            #expect(groups.count == 5)  // GetCount
            #expect(Array(groups.prefix(2)) == Array(created[0..<2]))  // Next(2)
            #expect(Array(groups.dropFirst(3)) == Array(created[3...]))  // Skip(3)
            #expect(Array(groups.dropFirst(9)).isEmpty)  // Skip past the end
            #expect(Array(groups) == Array(groups))  // Reset: iterating again gives the same
        }

        @Test func groupsIsASnapshotThatLaterCreationsDoNotChange() throws {
            let f = try OperationsFixture()
            try f.manager.createGroup(properties: operationProps("a"))
            try f.manager.createGroup(properties: operationProps("b"))
            let snapshot = try f.manager.groups()
            let late = try f.manager.createGroup(properties: operationProps("late"))
            #expect(snapshot.count == 2)
            #expect(!snapshot.contains(late))
            #expect(try f.manager.groups().last == late)
        }

        @Test func groupsOmitsCancelledGroups() throws {
            let f = try OperationsFixture()
            let a = try f.manager.createGroup(properties: operationProps("a"))
            let b = try f.manager.createGroup(properties: operationProps("b"))
            let c = try f.manager.createGroup(properties: operationProps("c"))
            try b.cancel()
            #expect(try f.manager.groups() == [a, c])
        }

        @Test func groupsOfAnEmptyQueueIsEmpty() throws {
            let f = try OperationsFixture()
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func jobsListsLiveJobsInCreationOrder() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let created = try (0..<5).map { _ in try group.createJob() }
            #expect(try group.jobs().map(\.id) == created.map(\.id))
            #expect(try group.jobs().allSatisfy { $0.groupID == group.id })
        }

        @Test func jobsIsASnapshotAndOmitsCancelledJobs() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let a = try group.createJob()
            let b = try group.createJob()
            let c = try group.createJob()
            let snapshot = try group.jobs()
            let late = try group.createJob()
            try b.cancel()
            #expect(snapshot == [a, b, c])
            #expect(try group.jobs() == [a, c, late])
        }

        @Test func jobsListsOnlyThisGroupsJobs() throws {
            let f = try OperationsFixture()
            let first = try f.manager.createGroup(properties: operationProps("first"))
            let second = try f.manager.createGroup(properties: operationProps("second"))
            let mine = try first.createJob()
            try second.createJob()
            #expect(try first.jobs() == [mine])
        }
    }
}
