import Foundation
import Testing
@testable import BackgroundCopy

/// The operations table of DESIGN.md, row by row, and every error each row names.
/// Each test opens its own scratch database; the engine side is driven through the real
/// `TransferLedger` store operations (`transferNextFile`), never over the network.
@Suite("Operations")
struct OperationsTests {}

// MARK: - Helpers

/// A scratch directory and a queue opened in it; the manager keeps the scratch alive.
private struct Fixture {
    let scratch: Scratch
    let manager: QueueManager

    init(_ configuration: QueueManager.Configuration = .init()) throws {
        scratch = Scratch()
        manager = try scratch.open(configuration)
    }

    var database: String { scratch.database }

    func digest() throws -> String { try tableDigest(scratch.database) }

    /// A new group holding one job with `count` files named `prefix0`, `prefix1`, …
    func groupWithFiles(_ count: Int, prefix: String, sizeHint: UInt64? = nil, properties: GroupProperties = props()) throws -> (Group, Job) {
        let group = try manager.createGroup(properties: properties)
        let job = try group.createJob()
        try job.addFiles(scratch.specs(count, prefix: prefix, sizeHint: sizeHint))
        return (group, job)
    }

    /// A group whose `count` files were all transferred: state `complete`.
    func completeGroup(_ count: Int, prefix: String) throws -> (Group, Job) {
        let (group, job) = try groupWithFiles(count, prefix: prefix)
        try group.resume()
        for _ in 0..<count { try #require(try transferNextFile(manager, content: content) != nil) }
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

private func props(_ name: String = "operations", priority: Priority = .normal) -> GroupProperties {
    GroupProperties(displayName: name, priority: priority)
}

private let content: [UInt8] = Array(repeating: 0x5A, count: 100)

/// Runs `body`, which must throw a `QueueError` with `code`; returns the error for further checks.
@discardableResult
private func expectError<T>(
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
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(try query(f.database, "SELECT state FROM groups") == [["suspended"]])
        }

        @Test func createGroupWithoutIDGeneratesADistinctID() throws {
            let f = try Fixture()
            let first = try f.manager.createGroup(properties: props("a"))
            let second = try f.manager.createGroup(properties: props("b"))
            #expect(first.id != second.id)
            #expect(try f.manager.group(first.id) == first)
            #expect(try f.manager.group(second.id) == second)
        }

        @Test func createGroupWithCallerIDUsesThatID() throws {
            let f = try Fixture()
            let id = try #require(GroupID("E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
            let group = try f.manager.createGroup(id: id, properties: props())
            #expect(group.id == id)
            #expect(try f.manager.group(id).id == id)
            #expect(try query(f.database, "SELECT hex(uuid) FROM groups") == [["E621E1F8C36C495A93FC0C247A3E6E5F"]])
        }

        @Test func createGroupWithTakenIDThrowsAlreadyExists() throws {
            let f = try Fixture()
            let id = GroupID()
            try f.manager.createGroup(id: id, properties: props("original"))
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: props("second")) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try f.manager.group(id).properties().displayName == "original")
        }

        @Test func createGroupWithCancelledGroupIDThrowsAlreadyExists() throws {
            let f = try Fixture()
            let id = GroupID()
            try f.manager.createGroup(id: id, properties: props()).cancel()
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: props()) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try f.manager.groups().isEmpty)
        }

        @Test(arguments: ["", String(repeating: "n", count: 257), "bell\u{07}"])
        func createGroupWithInvalidDisplayNameThrowsInvalidArgumentAndWritesNothing(name: String) throws {
            let f = try Fixture()
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try f.manager.createGroup(properties: props(name)) }
            #expect(error?.value == name)
            #expect(try f.digest() == before)
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func createGroupAcceptsA256CharacterDisplayName() throws {
            let f = try Fixture()
            let name = String(repeating: "é", count: 256)
            let group = try f.manager.createGroup(properties: props(name))
            #expect(try group.properties().displayName == name)
        }

        @Test func createGroupRecordsAGroupCreatedEvent() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
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
            let f = try Fixture()
            try f.manager.createGroup(properties: props())
            let unknown = GroupID()
            let error = expectError(.notFound) { try f.manager.group(unknown) }
            #expect(error?.value == unknown.description)
        }

        @Test func groupWithCancelledIDThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.cancel()
            expectError(.notFound) { try f.manager.group(group.id) }
        }

        @Test func groupOpensALiveGroupAsAnEqualHandle() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props("opened"))
            let opened = try f.manager.group(group.id)
            #expect(opened == group)
            #expect(try opened.properties().displayName == "opened")
        }

        @Test func groupsListsLiveGroupsInCreationOrder() throws {
            let f = try Fixture()
            // Random IDs, so creation order is not the IDs' order.
            let created = try (0..<6).map { index in try f.manager.createGroup(properties: props("g\(index)")) }
            let groups = try f.manager.groups()
            #expect(groups.map(\.id) == created.map(\.id))
        }

        @Test func groupsArrayServesAsTheEnumerator() throws {
            let f = try Fixture()
            let created = try (0..<5).map { index in try f.manager.createGroup(properties: props("g\(index)")) }
            let groups = try f.manager.groups()
            #expect(groups.count == 5)  // GetCount
            #expect(Array(groups.prefix(2)) == Array(created[0..<2]))  // Next(2)
            #expect(Array(groups.dropFirst(3)) == Array(created[3...]))  // Skip(3)
            #expect(Array(groups.dropFirst(9)).isEmpty)  // Skip past the end
            #expect(Array(groups) == Array(groups))  // Reset: iterating again gives the same
        }

        @Test func groupsIsASnapshotThatLaterCreationsDoNotChange() throws {
            let f = try Fixture()
            try f.manager.createGroup(properties: props("a"))
            try f.manager.createGroup(properties: props("b"))
            let snapshot = try f.manager.groups()
            let late = try f.manager.createGroup(properties: props("late"))
            #expect(snapshot.count == 2)
            #expect(!snapshot.contains(late))
            #expect(try f.manager.groups().last == late)
        }

        @Test func groupsOmitsCancelledGroups() throws {
            let f = try Fixture()
            let a = try f.manager.createGroup(properties: props("a"))
            let b = try f.manager.createGroup(properties: props("b"))
            let c = try f.manager.createGroup(properties: props("c"))
            try b.cancel()
            #expect(try f.manager.groups() == [a, c])
        }

        @Test func groupsOfAnEmptyQueueIsEmpty() throws {
            let f = try Fixture()
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func jobsListsLiveJobsInCreationOrder() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let created = try (0..<5).map { _ in try group.createJob() }
            #expect(try group.jobs().map(\.id) == created.map(\.id))
            #expect(try group.jobs().allSatisfy { $0.groupID == group.id })
        }

        @Test func jobsIsASnapshotAndOmitsCancelledJobs() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
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
            let f = try Fixture()
            let first = try f.manager.createGroup(properties: props("first"))
            let second = try f.manager.createGroup(properties: props("second"))
            let mine = try first.createJob()
            try second.createJob()
            #expect(try first.jobs() == [mine])
        }
    }
}

// MARK: - properties / setProperties

extension OperationsTests {
    @Suite("properties / setProperties")
    struct Properties {
        @Test func createGroupStoresBITSDefaults() throws {
            let f = try Fixture()
            let properties = try f.manager.createGroup(properties: GroupProperties(displayName: "defaults")).properties()
            #expect(properties == GroupProperties(displayName: "defaults"))
            #expect(properties.priority == .normal)
            #expect(properties.notifyFlags == [.groupDone, .error])
            #expect(properties.retryDelay == .seconds(600))
            #expect(properties.noProgressTimeout == .seconds(14 * 24 * 3600))
            #expect(properties.httpHeaders.isEmpty)
        }

        @Test func setPropertiesRoundTripsEveryFieldIncludingHeaders() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let wanted = GroupProperties(
                displayName: "Nightly models ✓",
                description: "line one\n\tindented line two",
                priority: .high,
                notifyFlags: [.fileDone, .jobDone, .groupDone, .error, .progress, .modification],
                retryDelay: .milliseconds(5_250),
                noProgressTimeout: .zero,
                httpHeaders: [
                    HTTPHeader(name: "X-Client", value: "bgcopy/1.0"),
                    HTTPHeader(name: "Accept", value: "application/octet-stream; q=1, */*: q=0.1"),
                    HTTPHeader(name: "X-Padded", value: "  two leading spaces"),
                    HTTPHeader(name: "X-Empty", value: ""),
                    HTTPHeader(name: "X-Tab", value: "a\tb"),
                ])
            try group.setProperties(wanted)
            #expect(try group.properties() == wanted)
            #expect(try f.manager.group(group.id).properties() == wanted)
        }

        @Test func setPropertiesSurvivesReopeningTheQueue() throws {
            let scratch = Scratch()
            let id = GroupID()
            let wanted = GroupProperties(displayName: "persisted", priority: .low, httpHeaders: [HTTPHeader(name: "X-A", value: "1")])
            do {
                let manager = try scratch.open()
                try manager.createGroup(id: id, properties: props()).setProperties(wanted)
            }
            #expect(try scratch.open().group(id).properties() == wanted)
        }

        @Test func setPropertiesRecordsAModifiedEvent() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.setProperties(props("renamed"))
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "properties"])
        }

        static let invalid: [GroupProperties] = [
            GroupProperties(displayName: ""),
            GroupProperties(displayName: String(repeating: "x", count: 257)),
            GroupProperties(displayName: "ok", description: String(repeating: "d", count: 1025)),
            GroupProperties(displayName: "ok", description: "nul\u{0}"),
            GroupProperties(displayName: "ok", notifyFlags: NotifyFlags(rawValue: 0x80)),
            GroupProperties(displayName: "ok", retryDelay: .seconds(1)),
            GroupProperties(displayName: "ok", retryDelay: .seconds(7 * 24 * 3600 + 1)),
            GroupProperties(displayName: "ok", noProgressTimeout: .seconds(-1)),
            GroupProperties(displayName: "ok", noProgressTimeout: .seconds(365 * 24 * 3600 + 1)),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "Authorization", value: "Bearer secret")]),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "Bad Name", value: "v")]),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "X-Split", value: "a\r\nInjected: 1")]),
        ]

        @Test(arguments: invalid)
        func setPropertiesWithInvalidValueThrowsInvalidArgumentAndKeepsTheOldProperties(bad: GroupProperties) throws {
            let f = try Fixture()
            let original = GroupProperties(displayName: "original", description: "kept", httpHeaders: [HTTPHeader(name: "X-Kept", value: "1")])
            let group = try f.manager.createGroup(properties: original)
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try group.setProperties(bad) }
            #expect(error?.value != nil)
            #expect(try f.digest() == before)
            #expect(try group.properties() == original)
        }

        @Test(arguments: invalid)
        func createGroupWithInvalidPropertiesThrowsInvalidArgument(bad: GroupProperties) throws {
            let f = try Fixture()
            let before = try f.digest()
            expectError(.invalidArgument) { try f.manager.createGroup(properties: bad) }
            #expect(try f.digest() == before)
        }

        @Test func setPropertiesOnCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.cancel()
            expectError(.notFound) { try group.setProperties(props("late")) }
            expectError(.notFound) { try group.properties() }
        }
    }
}

// MARK: - progress

extension OperationsTests {
    @Suite("progress")
    struct ProgressTests {
        @Test func progressOfAGroupWithoutFilesIsZero() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.createJob()
            let progress = try group.progress()
            #expect(progress == TransferProgress(bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, filesOfUnknownSize: 0))
            #expect(progress.percent == 0)
        }

        @Test func progressSumsBytesAndFilesOverAllJobs() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(2, prefix: "a", sizeHint: 100))
            try second.addFiles(f.scratch.specs(1, prefix: "b", sizeHint: 200))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)  // a0: 100 of 100
            try #require(try transferNextFile(f.manager, content: content, partial: true) != nil)  // a1: 50 of 100
            let progress = try group.progress()
            #expect(progress.bytesDone == 150)
            #expect(progress.bytesTotal == 400)
            #expect(progress.filesDone == 1)
            #expect(progress.filesTotal == 3)
            #expect(progress.filesOfUnknownSize == 0)
            #expect(progress.percent == 37)  // by bytes: 150 / 400
            #expect(try group.size() == 400)
            #expect(try first.progress() == TransferProgress(bytesDone: 150, bytesTotal: 200, filesDone: 1, filesTotal: 2, filesOfUnknownSize: 0))
            #expect(try second.progress() == TransferProgress(bytesDone: 0, bytesTotal: 200, filesDone: 0, filesTotal: 1, filesOfUnknownSize: 0))
        }

        @Test func progressTotalsAbove4GiBAreNotCapped() throws {
            let f = try Fixture()
            let threeGiB: UInt64 = 3 << 30
            let (group, _) = try f.groupWithFiles(3, prefix: "big", sizeHint: threeGiB)
            let progress = try group.progress()
            #expect(progress.bytesTotal == 9 << 30)
            #expect(progress.bytesTotal > UInt64(UInt32.max))
            #expect(progress.filesOfUnknownSize == 0)
            #expect(progress.percent == 0)
            #expect(try group.size() == 9 << 30)
        }

        @Test func progressPercentUsesBytesAbove4GiB() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            // One small file transferred, one 5 GiB file untouched: by bytes that is well under 1 %.
            try job.addFiles([FileSpec(remote: "https://example.test/small", local: f.scratch.path("small"), sizeHint: 100),
                              FileSpec(remote: "https://example.test/huge", local: f.scratch.path("huge"), sizeHint: 5 << 30)])
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)
            let progress = try group.progress()
            #expect(progress.bytesDone == 100)
            #expect(progress.bytesTotal == (5 << 30) + 100)
            #expect(progress.filesDone == 1)
            #expect(progress.percent == 0)
        }

        @Test func progressWithUnknownSizesFallsBackToFilesPercent() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(4, prefix: "unknown")
            #expect(try group.progress().filesOfUnknownSize == 4)
            #expect(try group.size() == 0)
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)
            let progress = try group.progress()
            #expect(progress.filesOfUnknownSize == 3)
            #expect(progress.bytesTotal == 100)  // only the transferred file's size is known
            #expect(progress.bytesDone == 100)
            #expect(progress.filesDone == 1)
            #expect(progress.percent == 25)  // by files, not 100 % of the known bytes
        }

        @Test func progressOfACompleteGroupIs100Percent() throws {
            let f = try Fixture()
            let (group, _) = try f.completeGroup(3, prefix: "done")
            let progress = try group.progress()
            #expect(progress == TransferProgress(bytesDone: 300, bytesTotal: 300, filesDone: 3, filesTotal: 3, filesOfUnknownSize: 0))
            #expect(progress.percent == 100)
        }

        @Test func progressExcludesCancelledJobs() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let kept = try group.createJob()
            let dropped = try group.createJob()
            try kept.addFiles(f.scratch.specs(1, prefix: "kept", sizeHint: 10))
            try dropped.addFiles(f.scratch.specs(2, prefix: "dropped", sizeHint: 1_000))
            try dropped.cancel()
            #expect(try group.progress() == TransferProgress(bytesDone: 0, bytesTotal: 10, filesDone: 0, filesTotal: 1, filesOfUnknownSize: 0))
        }

        @Test func progressOfCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "p")
            try group.cancel()
            expectError(.notFound) { try group.progress() }
            expectError(.notFound) { try job.progress() }
        }
    }
}

// MARK: - status

extension OperationsTests {
    @Suite("status")
    struct StatusTests {
        @Test func statusOfSuspendedGroupIsSuspendedAndIncomplete() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "s")
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(status.lastError == nil)
            #expect(status.errorCount == 0)
        }

        @Test func statusOfQueuedGroupIsIncompleteOnly() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "q")
            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
        }

        @Test func statusOfTransferringGroupIsIncompleteOnly() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "t")
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content, partial: true) != nil)
            let status = try group.status()
            #expect(status.state == .transferring)
            #expect(status.flags == [.groupIncomplete])
            #expect(status.currentJobIndex == 0)
        }

        @Test func statusOfCompleteGroupIsCompleteAndSuspended() throws {
            let f = try Fixture()
            let (group, job) = try f.completeGroup(2, prefix: "c")
            let status = try group.status()
            #expect(status.state == .complete)
            #expect(status.flags == [.groupComplete, .groupSuspended])
            #expect(status.currentJobIndex == nil)
            #expect(status.lastError == nil)
            let jobStatus = try job.status()
            #expect(jobStatus.flags == [.jobComplete, .fileComplete])
            #expect(jobStatus.currentFileIndex == nil)
        }

        @Test func statusOfForegroundGroupHasTheForegroundFlag() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props(priority: .foreground))
            let job = try group.createJob()
            #expect(try group.status().flags == [.groupSuspended, .groupIncomplete, .groupForeground])
            #expect(try job.status().flags.contains(.jobForeground))
        }

        @Test func statusOfBackgroundGroupLacksTheForegroundFlag() throws {
            let f = try Fixture()
            for priority in [Priority.high, .normal, .low] {
                let group = try f.manager.createGroup(properties: props(priority: priority))
                #expect(!(try group.status().flags.contains(.groupForeground)))
            }
        }

        @Test func statusOfGroupInErrorReportsTheLastFailure() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(3, prefix: "e")
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)  // e0 complete
            let claim = try #require(try transferNextFile(f.manager, content: content, partial: true))  // e1 partial
            let ledger = TransferLedger(core: f.manager.core)
            let failure = QueueError(.transfer, "HTTP 404 Not Found for e1", httpStatus: 404)
            #expect(try ledger.fail(claim.fileRowID, error: failure, retries: 3))

            let status = try group.status()
            #expect(status.state == .error)
            #expect(status.flags == [.groupError, .groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(status.errorCount == 1)
            let last = try #require(status.lastError)
            #expect(last.error.code == .transfer)
            #expect(last.error.message == "HTTP 404 Not Found for e1")
            #expect(last.error.httpStatus == 404)
            #expect(last.error.systemError == nil)
            #expect(last.error.hresult == 0x8019_0194)
            #expect(last.retries == 3)
            #expect(last.fileIndex == 1)

            let jobStatus = try job.status()
            #expect(jobStatus.flags.contains(.jobError))
            #expect(jobStatus.flags.contains(.jobIncomplete))
            #expect(jobStatus.currentFileIndex == 1)
            #expect(jobStatus.lastError == last)
            #expect(try f.fileStates(job) == ["complete", "error", "queued"])
        }

        @Test func statusErrorCountCountsEveryFailureAndKeepsTheLatest() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "twice")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            var claim = try #require(try transferNextFile(f.manager, content: content, partial: true))
            #expect(try ledger.fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 500", httpStatus: 500), retries: 1))
            try group.resume()
            claim = try #require(try transferNextFile(f.manager, content: content, partial: true))
            #expect(try ledger.fail(claim.fileRowID, error: QueueError(.transfer, "connection reset", systemError: 104), retries: 7))
            let status = try group.status()
            #expect(status.errorCount == 2)
            #expect(status.lastError?.error.message == "connection reset")
            #expect(status.lastError?.error.systemError == 104)
            #expect(status.lastError?.error.httpStatus == nil)
            #expect(status.lastError?.retries == 7)
        }

        @Test func statusCurrentJobIndexIsTheFirstJobWithWorkLeft() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let first = try group.createJob()
            try group.createJob()  // empty: no work left in it
            let third = try group.createJob()
            try first.addFiles(f.scratch.specs(1, prefix: "one"))
            try third.addFiles(f.scratch.specs(1, prefix: "three"))
            #expect(try group.status().currentJobIndex == 0)
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)
            #expect(try group.status().currentJobIndex == 2)
        }

        @Test func statusCurrentJobIndexCountsOnlyLiveJobs() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(1, prefix: "one"))
            try second.addFiles(f.scratch.specs(1, prefix: "two"))
            try first.cancel()
            #expect(try group.status().currentJobIndex == 0)
        }

        @Test func statusOfGroupWithoutJobsHasNoCurrentJob() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            #expect(try group.status().currentJobIndex == nil)
        }

        @Test func statusOfCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "x")
            try group.cancel()
            expectError(.notFound) { try group.status() }
            expectError(.notFound) { try job.status() }
        }
    }
}

// MARK: - createJob / job(id)

extension OperationsTests {
    @Suite("createJob / job(id)")
    struct Jobs {
        @Test func createJobWithCallerIDCanBeOpened() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let id = JobID()
            let job = try group.createJob(id: id)
            #expect(job.id == id)
            #expect(job.groupID == group.id)
            #expect(try group.job(id) == job)
            #expect(try job.fileCount() == 0)
        }

        @Test func createJobWithTakenIDThrowsAlreadyExists() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let id = JobID()
            try group.createJob(id: id)
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try group.createJob(id: id) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try group.jobs().count == 1)
        }

        @Test func createJobWithIDTakenInAnotherGroupThrowsAlreadyExists() throws {
            let f = try Fixture()
            let id = JobID()
            try f.manager.createGroup(properties: props("first")).createJob(id: id)
            let second = try f.manager.createGroup(properties: props("second"))
            expectError(.alreadyExists) { try second.createJob(id: id) }
            #expect(try second.jobs().isEmpty)
        }

        @Test func createJobWithCancelledJobIDThrowsAlreadyExists() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let id = JobID()
            try group.createJob(id: id).cancel()
            expectError(.alreadyExists) { try group.createJob(id: id) }
        }

        @Test func createJobInCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.cancel()
            let before = try f.digest()
            expectError(.notFound) { try group.createJob() }
            #expect(try f.digest() == before)
        }

        @Test func jobWithUnknownIDThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.createJob()
            let unknown = JobID()
            let error = expectError(.notFound) { try group.job(unknown) }
            #expect(error?.value == unknown.description)
        }

        @Test func jobOfAnotherGroupThrowsNotFound() throws {
            let f = try Fixture()
            let owner = try f.manager.createGroup(properties: props("owner"))
            let other = try f.manager.createGroup(properties: props("other"))
            let job = try owner.createJob()
            expectError(.notFound) { try other.job(job.id) }
            #expect(try owner.job(job.id) == job)
        }

        @Test func jobThatWasCancelledThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            try job.cancel()
            expectError(.notFound) { try group.job(job.id) }
        }
    }
}

// MARK: - addFiles, file(at:), fileCount

extension OperationsTests {
    @Suite("addFiles, file(at:), fileCount")
    struct Files {
        @Test func addFilesAppendsPositionsAcrossCalls() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            try job.addFiles(f.scratch.specs(2, prefix: "first"))
            try job.addFiles(f.scratch.specs(3, prefix: "second"))
            let files = try job.files()
            #expect(files.map(\.index) == [0, 1, 2, 3, 4])
            #expect(files.map(\.local) == ["first0", "first1", "second0", "second1", "second2"].map(f.scratch.path))
            #expect(try job.fileCount() == 5)
            #expect(try job.file(at: 2).remote == "https://example.test/second0")
            #expect(try query(f.database, "SELECT position FROM files ORDER BY id") == [["0"], ["1"], ["2"], ["3"], ["4"]])
        }

        @Test func addFilesStoresEachSpecAsGiven() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            let sha = String(repeating: "AB", count: 32)
            try job.addFiles([FileSpec(remote: "https://example.test/a.bin", local: f.scratch.path("a.bin"), sizeHint: 4_096, sha256: sha)])
            let file = try job.file(at: 0)
            #expect(file.index == 0)
            #expect(file.remote == "https://example.test/a.bin")
            #expect(file.local == f.scratch.path("a.bin"))
            #expect(file.sizeHint == 4_096)
            #expect(file.sha256 == sha.lowercased())
            #expect(file.state == .queued)
            #expect(file.bytesTotal == nil)
            #expect(file.bytesDone == 0)
        }

        @Test func addFilesPositionsAreKeptPerJob() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(3, prefix: "a"))
            try second.addFiles(f.scratch.specs(2, prefix: "b"))
            #expect(try second.files().map(\.index) == [0, 1])
            #expect(try first.fileCount() == 3)
            #expect(try second.fileCount() == 2)
        }

        @Test func addFilesToCompleteGroupMakesItSuspendedAgain() throws {
            let f = try Fixture()
            let (group, job) = try f.completeGroup(1, prefix: "done")
            #expect(try group.status().state == .complete)
            try job.addFiles(f.scratch.specs(1, prefix: "more"))
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(try query(f.database, "SELECT state, completed_at FROM groups") == [["suspended", "NULL"]])
            try group.resume()
            #expect(try group.status().state == .queued)
        }

        @Test func addFilesToNewJobOfCompleteGroupMakesItSuspendedAgain() throws {
            let f = try Fixture()
            let (group, _) = try f.completeGroup(1, prefix: "done")
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "more"))
            #expect(try group.status().state == .suspended)
        }

        @Test func addFilesToQueuedGroupKeepsItQueued() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "q")
            try group.resume()
            try job.addFiles(f.scratch.specs(1, prefix: "more"))
            #expect(try group.status().state == .queued)
            #expect(try job.fileCount() == 2)
        }

        @Test func addFilesRecordsAModifiedEvent() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(3, prefix: "ev")
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "3 file(s) added"])
        }

        @Test(arguments: ["ftp://example.test/a", "gopher://example.test/a", "javascript:alert(1)"])
        func addFilesWithDisallowedSchemeThrowsInvalidArgumentAndAddsNothing(remote: String) throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            let before = try f.digest()
            let batch = f.scratch.specs(2, prefix: "good") + [FileSpec(remote: remote, local: f.scratch.path("bad"))]
            let error = expectError(.invalidArgument) { try job.addFiles(batch) }
            #expect(error?.value == remote)
            #expect(try f.digest() == before)
            #expect(try job.fileCount() == 0)
        }

        @Test(arguments: ["relative/file", "file", "./file"])
        func addFilesWithRelativeLocalPathThrowsInvalidArgument(local: String) throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: local)]) }
            #expect(error?.value == local)
            #expect(try f.digest() == before)
        }

        @Test func addFilesWithRelativeRemoteThrowsInvalidArgument() throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "example.test/a", local: f.scratch.path("a"))]) }
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesWithTooLongPathThrowsInvalidArgument() throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            let longPath = f.scratch.path(String(repeating: "d/", count: 2_100) + "file")
            let longName = f.scratch.path(String(repeating: "n", count: 221))
            let longRemote = "https://example.test/" + String(repeating: "r", count: 2_200)
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: longPath)]) }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: longName)]) }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: longRemote, local: f.scratch.path("a"))]) }
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesWithLocalPathUsedInTheLiveQueueThrowsInvalidArgument() throws {
            let f = try Fixture()
            let (_, _) = try f.groupWithFiles(1, prefix: "shared")
            let other = try f.manager.createGroup(properties: props("other")).createJob()
            let before = try f.digest()
            let taken = f.scratch.path("shared0")
            let batch = [FileSpec(remote: "https://example.test/x", local: f.scratch.path("fresh")),
                         FileSpec(remote: "https://example.test/y", local: taken)]
            let error = expectError(.invalidArgument) { try other.addFiles(batch) }
            #expect(error?.value == taken)
            #expect(try f.digest() == before)
            #expect(try other.fileCount() == 0)
        }

        @Test func addFilesWithLocalPathOfACompleteFileThrowsInvalidArgument() throws {
            let f = try Fixture()
            let (_, job) = try f.completeGroup(1, prefix: "kept")
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/again", local: f.scratch.path("kept0"))]) }
        }

        @Test func addFilesWithDuplicateLocalPathInTheBatchThrowsInvalidArgument() throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            let local = f.scratch.path("twice")
            let error = expectError(.invalidArgument) {
                try job.addFiles([FileSpec(remote: "https://example.test/1", local: local), FileSpec(remote: "https://example.test/2", local: local)])
            }
            #expect(error?.value == local)
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesMayReuseTheLocalPathOfACancelledGroupsFile() throws {
            let f = try Fixture()
            let (first, _) = try f.groupWithFiles(1, prefix: "reused")
            try first.cancel()
            let job = try f.manager.createGroup(properties: props("second")).createJob()
            try job.addFiles([FileSpec(remote: "https://example.test/again", local: f.scratch.path("reused0"))])
            #expect(try job.fileCount() == 1)
        }

        @Test func addFilesIntoMissingDirectoryThrowsAccessDenied() throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            let before = try f.digest()
            let local = f.scratch.path("missing/file")
            let error = expectError(.accessDenied) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: local)]) }
            #expect(error?.value == local)
            #expect(error?.hresult == 0x8007_0005)
            #expect(try f.digest() == before)
        }

        @Test func addFilesOutsideTheAllowedRootsThrowsAccessDenied() throws {
            var configuration = QueueManager.Configuration()
            let scratch = Scratch()
            try FileManager.default.createDirectory(atPath: scratch.path("inside"), withIntermediateDirectories: false)
            configuration.allowedRoots = [scratch.path("inside")]
            let manager = try scratch.open(configuration)
            let job = try manager.createGroup(properties: props()).createJob()
            expectError(.accessDenied) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("outside"))]) }
            try job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("inside/ok"))])
            #expect(try job.fileCount() == 1)
        }

        @Test func addFilesToCancelledJobThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            try job.cancel()
            expectError(.notFound) { try job.addFiles(f.scratch.specs(1, prefix: "late")) }
        }

        @Test func fileAtIndexEqualToCountThrowsNotFound() throws {
            let f = try Fixture()
            let (_, job) = try f.groupWithFiles(3, prefix: "idx")
            #expect(try job.fileCount() == 3)
            #expect(try job.file(at: 2).local == f.scratch.path("idx2"))
            let error = expectError(.notFound) { try job.file(at: 3) }
            #expect(error?.value == "3")
            #expect(error?.hresult == 0x8100_1004)
            expectError(.notFound) { try job.file(at: 100) }
            expectError(.notFound) { try job.file(at: -1) }
        }

        @Test func fileAtZeroOfAnEmptyJobThrowsNotFound() throws {
            let f = try Fixture()
            let job = try f.manager.createGroup(properties: props()).createJob()
            #expect(try job.fileCount() == 0)
            expectError(.notFound) { try job.file(at: 0) }
        }
    }
}

// MARK: - suspend, resume, switchToForeground

extension OperationsTests {
    @Suite("suspend, resume, switchToForeground")
    struct Control {
        @Test func suspendMakesAQueuedGroupSuspended() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            try group.resume()
            try group.suspend()
            #expect(try group.status().state == .suspended)
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "suspended"])
        }

        @Test func suspendOfATransferringGroupKeepsPartialBytes() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "partial")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: content, partial: true))
            try group.suspend()
            #expect(try group.status().state == .suspended)
            #expect(try job.file(at: 0).bytesDone == 50)
            #expect(FileManager.default.fileExists(atPath: claim.tempPath))
            // The engine's next checkpoint sees the file is no longer claimed and stops.
            #expect(try TransferLedger(core: f.manager.core).checkpoint(claim.fileRowID, bytesDone: 60, bytesTotal: 100, validator: nil) == false)
            #expect(try job.file(at: 0).bytesDone == 50)
        }

        @Test func suspendThenResumeContinuesFromTheCommittedBytes() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "again")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            let first = try #require(try transferNextFile(f.manager, content: content, partial: true))
            try group.suspend()
            // The engine notices (its checkpoint is refused) and hands the file back.
            #expect(try ledger.checkpoint(first.fileRowID, bytesDone: 60, bytesTotal: 100, validator: nil) == false)
            try ledger.release(first.fileRowID)
            #expect(try ledger.claimNextFile() == nil)  // suspended: nothing to claim
            try group.resume()
            let second = try #require(try ledger.claimNextFile())
            #expect(second.fileRowID == first.fileRowID)
            #expect(second.bytesDone == 50)
            #expect(second.tempPath == first.tempPath)
            #expect(second.validator == "\"v1\"")
            #expect(try job.file(at: 0).state == .transferring)
        }

        @Test func resumeAfterReopeningReclaimsAFileThatWasTransferringWhenTheProcessStopped() throws {
            let scratch = Scratch()
            let id = GroupID()
            do {
                let manager = try scratch.open()
                let group = try manager.createGroup(id: id, properties: props())
                try group.createJob().addFiles(scratch.specs(1, prefix: "crash"))
                try group.resume()
                try #require(try transferNextFile(manager, content: content, partial: true) != nil)
                try group.suspend()
                // The process stops here: no engine is left to release the claimed file.
            }
            let manager = try scratch.open()
            let group = try manager.group(id)
            // DESIGN.md, Durability step 5: recovery on open returns `transferring` rows to `queued`.
            #expect(try group.jobs().first?.file(at: 0).state == .queued)
            try group.resume()
            let claim = try TransferLedger(core: manager.core).claimNextFile()
            #expect(claim?.groupID == id)
            #expect(claim?.bytesDone == 50)
        }

        @Test func suspendOnSuspendedGroupIsANoOpWithoutEvent() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            let before = try f.digest()
            try group.suspend()
            #expect(try f.digest() == before)
            #expect(try group.status().state == .suspended)
        }

        @Test func suspendOnCompleteGroupIsANoOpWithoutEvent() throws {
            let f = try Fixture()
            let (group, _) = try f.completeGroup(1, prefix: "c")
            let before = try f.digest()
            try group.suspend()
            #expect(try f.digest() == before)
            #expect(try group.status().state == .complete)
        }

        @Test func suspendRecordsOneModifiedEventOnlyWhenItChangedSomething() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            try group.suspend()
            try group.resume()
            try group.suspend()
            try group.suspend()
            let suspensions = try f.events(group).filter { $0.kind == "modified" && $0.detail == "suspended" }
            #expect(suspensions.count == 1)
        }

        @Test func suspendOnCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.cancel()
            expectError(.notFound) { try group.suspend() }
        }

        @Test func resumeQueuesASuspendedGroupWithFiles() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "r")
            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "resumed"])
        }

        @Test func resumeOnQueuedGroupIsANoOp() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "r")
            try group.resume()
            let before = try f.digest()
            try group.resume()
            #expect(try f.digest() == before)
        }

        @Test func resumeOfGroupInErrorClearsTheErrorAndRequeuesErrorFiles() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "err")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: content, partial: true))
            #expect(try TransferLedger(core: f.manager.core).fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 403", httpStatus: 403), retries: 0))
            #expect(try group.status().state == .error)
            #expect(try f.fileStates(job) == ["error", "queued"])

            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
            #expect(status.lastError == nil)
            #expect(status.errorCount == 1)
            #expect(try job.status().lastError == nil)
            #expect(!(try job.status().flags.contains(.jobError)))
            #expect(try f.fileStates(job) == ["queued", "queued"])
            #expect(try job.file(at: 0).bytesDone == 50)  // committed partial bytes are kept for the retry
            #expect(try query(f.database, """
                SELECT last_error_code, last_error_message, last_error_http, last_error_retries, last_error_file_id FROM groups
                """) == [["NULL", "NULL", "NULL", "NULL", "NULL"]])
        }

        @Test func resumeOnGroupWithNothingLeftThrowsEmptyAndStaysSuspended() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.createJob()
            let before = try f.digest()
            let error = expectError(.empty) { try group.resume() }
            #expect(error?.value == group.id.description)
            #expect(error?.hresult == 0x8020_0003)
            #expect(try group.status().state == .suspended)
            #expect(try f.digest() == before)
        }

        @Test func resumeOnGroupWithoutJobsThrowsEmpty() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .suspended)
        }

        @Test func resumeOnCompleteGroupThrowsEmptyAndStaysComplete() throws {
            let f = try Fixture()
            let (group, _) = try f.completeGroup(2, prefix: "c")
            let before = try f.digest()
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .complete)
            #expect(try f.digest() == before)
        }

        @Test func resumeWhenOnlyACancelledJobHadFilesThrowsEmpty() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "gone")
            try job.cancel()
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .suspended)
        }

        @Test func resumeOnCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "x")
            try group.cancel()
            expectError(.notFound) { try group.resume() }
        }

        @Test func switchToForegroundMakesThePriorityForeground() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props(priority: .low))
            let job = try group.createJob()
            try group.switchToForeground()
            #expect(try group.properties().priority == .foreground)
            #expect(try group.status().flags == [.groupSuspended, .groupIncomplete, .groupForeground])
            #expect(try job.status().flags.contains(.jobForeground))
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "foreground"])
        }

        @Test func switchToForegroundKeepsTheGroupsState() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "fg")
            try group.resume()
            try group.switchToForeground()
            #expect(try group.status().state == .queued)
            #expect(try group.status().flags == [.groupIncomplete, .groupForeground])
        }

        @Test func switchToForegroundOnForegroundGroupChangesNothing() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props(priority: .foreground))
            let before = try f.digest()
            try group.switchToForeground()
            #expect(try f.digest() == before)
        }

        @Test func switchToForegroundGroupIsClaimedBeforeOlderBackgroundGroups() throws {
            let f = try Fixture()
            let (older, _) = try f.groupWithFiles(1, prefix: "older")
            let (newer, _) = try f.groupWithFiles(1, prefix: "newer")
            try older.resume()
            try newer.resume()
            try newer.switchToForeground()
            let claim = try #require(try TransferLedger(core: f.manager.core).claimNextFile())
            #expect(claim.groupID == newer.id)
        }

        @Test func switchToForegroundOnCancelledGroupThrowsNotFound() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.cancel()
            expectError(.notFound) { try group.switchToForeground() }
        }
    }
}

// MARK: - cancel (job and group)

extension OperationsTests {
    @Suite("cancel")
    struct Cancel {
        /// One group, job `a` with a complete, a partial and a queued file, job `b` with one queued file.
        private func mixedGroup(_ f: Fixture) throws -> (group: Group, a: Job, b: Job, partial: Claim) {
            let group = try f.manager.createGroup(properties: props())
            let a = try group.createJob()
            let b = try group.createJob()
            try a.addFiles(f.scratch.specs(3, prefix: "a"))
            try b.addFiles(f.scratch.specs(1, prefix: "b"))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)
            let partial = try #require(try transferNextFile(f.manager, content: content, partial: true))
            try #require(FileManager.default.fileExists(atPath: partial.tempPath))
            return (group, a, b, partial)
        }

        @Test func jobCancelRetainsCompleteAndDiscardsIncompleteFilesOfThatJobOnly() throws {
            let f = try Fixture()
            let (group, a, b, partial) = try mixedGroup(f)
            let bRow = try f.rowID(b)
            let aRow = try f.rowID(a)
            try a.cancel()
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(aRow) ORDER BY position") == [["retained"], ["discarded"], ["discarded"]])
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(bRow)") == [["queued"]])
            #expect(try query(f.database, "SELECT state FROM jobs ORDER BY id") == [["cancelled"], ["active"]])
            #expect(try b.fileCount() == 1)
            #expect(try group.jobs() == [b])
            // The complete file stays at its path, untouched; the partial one's temp file is gone.
            #expect(FileManager.default.contents(atPath: f.scratch.path("a0")) == Data(content))
            #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
        }

        @Test func jobCancelKeepsTheGroupsState() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "keep")
            let dropped = try group.createJob()
            try dropped.addFiles(f.scratch.specs(1, prefix: "drop"))
            try group.resume()
            try dropped.cancel()
            #expect(try group.status().state == .queued)

            let (suspended, job) = try f.groupWithFiles(1, prefix: "sus")
            try job.cancel()
            #expect(try suspended.status().state == .suspended)
        }

        @Test func jobCancelRecordsExactlyOneJobCancelledEvent() throws {
            let f = try Fixture()
            let (group, a, _, _) = try mixedGroup(f)
            let aRow = try f.rowID(a)
            let before = try f.count("SELECT count(*) FROM events")
            try a.cancel()
            #expect(try f.count("SELECT count(*) FROM events") == before + 1)
            let rows = try query(f.database, "SELECT kind, job_id, detail FROM events WHERE group_id = \(f.rowID(group)) ORDER BY seq DESC LIMIT 1")
            #expect(rows == [["jobCancelled", aRow, "retained 1, discarded 2"]])
            #expect(try f.eventKinds(group).filter { $0 == "cancelled" }.isEmpty)
        }

        @Test func jobCancelTwiceThrowsNotFound() throws {
            let f = try Fixture()
            let (_, job) = try f.groupWithFiles(1, prefix: "twice")
            try job.cancel()
            let before = try f.digest()
            expectError(.notFound) { try job.cancel() }
            #expect(try f.digest() == before)
        }

        @Test func handlesOfACancelledJobThrowNotFound() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "h")
            try job.cancel()
            expectError(.notFound) { try job.fileCount() }
            expectError(.notFound) { try job.file(at: 0) }
            expectError(.notFound) { try job.files() }
            expectError(.notFound) { try job.progress() }
            expectError(.notFound) { try job.status() }
            #expect(try group.status().state == .suspended)  // the group itself is still live
        }

        @Test func groupCancelRetainsCompleteFilesAndDiscardsTheRest() throws {
            let f = try Fixture()
            let (group, a, b, partial) = try mixedGroup(f)
            let groupRow = try f.rowID(group)
            let aRow = try f.rowID(a)
            let bRow = try f.rowID(b)
            try group.cancel()
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(aRow) ORDER BY position") == [["retained"], ["discarded"], ["discarded"]])
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(bRow)") == [["discarded"]])
            #expect(try query(f.database, "SELECT DISTINCT state FROM jobs") == [["cancelled"]])
            #expect(try query(f.database, "SELECT state, cancelled_at IS NOT NULL FROM groups WHERE id = \(groupRow)") == [["cancelled", "1"]])
            #expect(FileManager.default.contents(atPath: f.scratch.path("a0")) == Data(content))
            #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
            #expect(!FileManager.default.fileExists(atPath: f.scratch.path("a1")))
        }

        @Test func groupCancelWhileAFileIsFinalizingRetainsItAtItsLocalPath() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "final")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            let claim = try #require(try ledger.claimNextFile())
            _ = FileManager.default.createFile(atPath: claim.tempPath, contents: Data(content))
            #expect(try ledger.checkpoint(claim.fileRowID, bytesDone: 100, bytesTotal: 100, validator: nil))
            #expect(try ledger.beginFinalizing(claim.fileRowID, bytesTotal: 100))
            let jobRow = try f.rowID(job)
            try group.cancel()
            // Verified bytes count as complete: retained, and the rename is finished for the caller.
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(jobRow)") == [["retained"]])
            #expect(FileManager.default.contents(atPath: f.scratch.path("final0")) == Data(content))
            #expect(!FileManager.default.fileExists(atPath: claim.tempPath))
        }

        @Test func groupCancelRecordsACancelledEvent() throws {
            let f = try Fixture()
            let (group, _, _, _) = try mixedGroup(f)
            let groupRow = try f.rowID(group)
            try group.cancel()
            let rows = try query(f.database, "SELECT kind, state, detail FROM events WHERE group_id = \(groupRow) ORDER BY seq DESC LIMIT 1")
            #expect(rows == [["cancelled", "cancelled", "retained 1, discarded 3"]])
        }

        @Test func groupCancelTwiceThrowsNotFound() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "twice")
            try group.cancel()
            let before = try f.digest()
            let error = expectError(.notFound) { try group.cancel() }
            #expect(error?.value == group.id.description)
            #expect(try f.digest() == before)
        }

        @Test func groupCancelLeavesOtherGroupsUntouched() throws {
            let f = try Fixture()
            let (doomed, _) = try f.groupWithFiles(1, prefix: "doomed")
            let (kept, keptJob) = try f.groupWithFiles(2, prefix: "kept")
            try kept.resume()
            try doomed.cancel()
            #expect(try f.manager.groups() == [kept])
            #expect(try kept.status().state == .queued)
            #expect(try f.fileStates(keptJob) == ["queued", "queued"])
        }

        @Test func handlesOfACancelledGroupThrowNotFound() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "h")
            try group.cancel()
            let before = try f.digest()
            expectError(.notFound) { try f.manager.group(group.id) }
            expectError(.notFound) { try group.properties() }
            expectError(.notFound) { try group.setProperties(props("again")) }
            expectError(.notFound) { try group.progress() }
            expectError(.notFound) { try group.size() }
            expectError(.notFound) { try group.status() }
            expectError(.notFound) { try group.jobs() }
            expectError(.notFound) { try group.job(job.id) }
            expectError(.notFound) { try group.createJob() }
            expectError(.notFound) { try group.suspend() }
            expectError(.notFound) { try group.resume() }
            expectError(.notFound) { try group.switchToForeground() }
            expectError(.notFound) { try job.addFiles(f.scratch.specs(1, prefix: "late")) }
            expectError(.notFound) { try job.fileCount() }
            expectError(.notFound) { try job.file(at: 0) }
            expectError(.notFound) { try job.cancel() }
            #expect(try f.digest() == before)
        }
    }
}

// MARK: - purgeTombstones

extension OperationsTests {
    @Suite("purgeTombstones")
    struct Purge {
        private static func future() -> Date { Date().addingTimeInterval(3_600) }
        private static func past() -> Date { Date().addingTimeInterval(-3_600) }

        @Test func purgeTombstonesRemovesJobFileAndEventRowsOfOldTombstones() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(3, prefix: "old")
            try group.createJob()
            let row = try f.rowID(group)
            try group.cancel()
            #expect(try f.count("SELECT count(*) FROM jobs WHERE group_id = \(row)") == 2)
            let purged = try f.manager.purgeTombstones(olderThan: Purge.future())
            #expect(purged == 1)
            #expect(try f.count("SELECT count(*) FROM jobs WHERE group_id = \(row)") == 0)
            #expect(try f.count("SELECT count(*) FROM files") == 0)
            #expect(try f.count("SELECT count(*) FROM events WHERE group_id = \(row)") == 0)
            #expect(try query(f.database, "SELECT state, description, http_headers FROM groups WHERE id = \(row)") == [["cancelled", "", ""]])
        }

        @Test func purgeTombstonesKeepsTheGroupIDTaken() throws {
            let f = try Fixture()
            let id = GroupID()
            let group = try f.manager.createGroup(id: id, properties: GroupProperties(displayName: "purged", description: "bulky"))
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "p"))
            try group.cancel()
            try f.manager.purgeTombstones(olderThan: Purge.future())
            #expect(try f.count("SELECT count(*) FROM groups") == 1)
            expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: props()) }
            expectError(.notFound) { try f.manager.group(id) }
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func purgeTombstonesLeavesRecentTombstonesAlone() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "recent")
            try group.cancel()
            let before = try f.digest()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.past()) == 0)
            #expect(try f.digest() == before)
        }

        @Test func purgeTombstonesLeavesLiveGroupsUntouched() throws {
            let f = try Fixture()
            let (live, liveJob) = try f.groupWithFiles(2, prefix: "live")
            try live.resume()
            let (dead, _) = try f.groupWithFiles(1, prefix: "dead")
            try dead.cancel()
            let liveRow = try f.rowID(live)
            let eventsBefore = try f.events(live).map { [$0.kind, $0.detail] }
            try f.manager.purgeTombstones(olderThan: Purge.future())
            #expect(try f.manager.groups() == [live])
            #expect(try liveJob.fileCount() == 2)
            #expect(try f.events(live).map { [$0.kind, $0.detail] } == eventsBefore)
            #expect(try f.count("SELECT count(*) FROM jobs WHERE group_id = \(liveRow)") == 1)
            #expect(try live.status().state == .queued)
        }

        @Test func purgeTombstonesRemovesCancelledJobsOfLiveGroups() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let kept = try group.createJob()
            let droppedID = JobID()
            let dropped = try group.createJob(id: droppedID)
            try kept.addFiles(f.scratch.specs(1, prefix: "kept"))
            try dropped.addFiles(f.scratch.specs(2, prefix: "dropped"))
            let droppedRow = try f.rowID(dropped)
            try dropped.cancel()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.future()) == 1)
            #expect(try f.count("SELECT count(*) FROM jobs WHERE id = \(droppedRow)") == 0)
            #expect(try f.count("SELECT count(*) FROM files WHERE job_id = \(droppedRow)") == 0)
            #expect(try f.count("SELECT count(*) FROM events WHERE job_id = \(droppedRow)") == 0)
            #expect(try group.jobs() == [kept])
            #expect(try kept.fileCount() == 1)
            // A purged job's ID is free again (the doc comment of purgeTombstones says so).
            #expect(try group.createJob(id: droppedID).id == droppedID)
        }

        @Test func purgeTombstonesTwiceChangesNothingTheSecondTime() throws {
            let f = try Fixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "once")
            try group.cancel()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.future()) == 1)
            let before = try f.digest()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.future()) == 0)
            #expect(try f.digest() == before)
        }
    }
}

// MARK: - QueueError.hresult

extension OperationsTests {
    @Suite("QueueError.hresult")
    struct HResult {
        static let plain: [(QueueError.Code, UInt32)] = [
            (.notFound, 0x8100_1004),  // QM_E_ITEM_NOT_FOUND
            (.alreadyExists, 0x8007_0057),  // E_INVALIDARG (QMGR CreateGroup on an existing GUID)
            (.invalidArgument, 0x8007_0057),  // E_INVALIDARG
            (.invalidState, 0x8100_1001),  // QM_E_INVALID_STATE
            (.accessDenied, 0x8007_0005),  // E_ACCESSDENIED
            (.empty, 0x8020_0003),  // BG_E_EMPTY
            (.validationFailed, 0x8020_0053),  // BG_E_VALIDATION_FAILED
            (.incompatibleDatabase, 0x8100_1002),  // QM_E_SERVICE_UNAVAILABLE
            (.storage, 0x8000_4005),  // E_FAIL
            (.transfer, 0x8000_4005),  // E_FAIL without an HTTP status or errno
            (.fileSystem, 0x8000_4005),  // E_FAIL without errno
        ]

        @Test(arguments: plain)
        func hresultMapsEachCode(code: QueueError.Code, hresult: UInt32) {
            #expect(QueueError(code, "test").hresult == hresult)
        }

        @Test(arguments: [(404, UInt32(0x8019_0194)), (400, 0x8019_0190), (407, 0x8019_0197), (503, 0x8019_01F7)])
        func hresultOfTransferErrorWithHTTPStatusIsBGEHTTPError(status: Int, hresult: UInt32) {
            #expect(QueueError(.transfer, "http", httpStatus: status).hresult == hresult)
        }

        @Test func hresultOfTransferOrFileSystemErrorWithErrnoIsAWin32HRESULT() {
            #expect(QueueError(.transfer, "reset", systemError: 104).hresult == 0x8007_0068)
            #expect(QueueError(.fileSystem, "no space", systemError: 28).hresult == 0x8007_001C)
        }

        @Test func hresultOfStorageDiskFullIsERRORDISKFULL() {
            #expect(QueueError(.storage, "full", sqliteResultCode: 13).hresult == 0x8007_0070)
            #expect(QueueError(.storage, "busy", sqliteResultCode: 5).hresult == 0x8000_4005)
            #expect(QueueError(.storage, "ioerr", sqliteResultCode: 10 | (4 << 8)).hresult == 0x8000_4005)
        }

        @Test func errorsThrownByTheAPICarryTheirHRESULT() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            #expect(expectError(.notFound) { try f.manager.group(GroupID()) }?.hresult == 0x8100_1004)
            #expect(expectError(.alreadyExists) { try f.manager.createGroup(id: group.id, properties: props()) }?.hresult == 0x8007_0057)
            #expect(expectError(.invalidArgument) { try group.setProperties(props("")) }?.hresult == 0x8007_0057)
            #expect(expectError(.empty) { try group.resume() }?.hresult == 0x8020_0003)
        }

        @Test func errorMessagesNameTheOffendingValue() throws {
            let f = try Fixture()
            let unknown = GroupID()
            let error = try #require(expectError(.notFound) { try f.manager.group(unknown) })
            #expect(error.message.contains(unknown.description))
            #expect(error.description.hasPrefix("notFound: "))
        }
    }
}

// MARK: - events

extension OperationsTests {
    @Suite("events")
    struct Events {
        @Test func fullTransferRecordsFileJobAndGroupCompleteEvents() throws {
            let f = try Fixture()
            let (group, job) = try f.completeGroup(2, prefix: "ev")
            let groupRow = try f.rowID(group)
            let jobRow = try f.rowID(job)
            let kinds = try f.eventKinds(group)
            #expect(kinds.first == "groupCreated")
            #expect(kinds.filter { ["fileComplete", "jobComplete", "groupComplete"].contains($0) }
                    == ["fileComplete", "fileComplete", "jobComplete", "groupComplete"])
            #expect(kinds.last == "groupComplete")
            let files = try query(f.database, "SELECT job_id, file_index FROM events WHERE group_id = \(groupRow) AND kind = 'fileComplete' ORDER BY seq")
            #expect(files == [[jobRow, "0"], [jobRow, "1"]])
            #expect(try query(f.database, "SELECT job_id FROM events WHERE kind = 'jobComplete'") == [[jobRow]])
            #expect(try query(f.database, "SELECT state FROM events WHERE kind = 'groupComplete'") == [["complete"]])
        }

        @Test func jobCompleteIsRecordedPerJobAndGroupCompleteOnlyAtTheEnd() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "a"))
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "b"))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: content) != nil)
            #expect(try f.eventKinds(group).filter { $0 == "jobComplete" }.count == 1)
            #expect(!(try f.eventKinds(group).contains("groupComplete")))
            #expect(try group.status().state != .complete)
            try #require(try transferNextFile(f.manager, content: content) != nil)
            #expect(try f.eventKinds(group).filter { $0 == "jobComplete" }.count == 2)
            #expect(try f.eventKinds(group).filter { $0 == "groupComplete" }.count == 1)
            #expect(try group.status().state == .complete)
        }

        @Test func eventSequenceIsStrictlyIncreasing() throws {
            let f = try Fixture()
            func lastSeq() throws -> Int { try f.count("SELECT coalesce(max(seq), 0) FROM events") }
            var seen: [Int] = []
            let group = try f.manager.createGroup(properties: props())
            seen.append(try lastSeq())
            let job = try group.createJob()
            seen.append(try lastSeq())
            try job.addFiles(f.scratch.specs(2, prefix: "seq"))
            seen.append(try lastSeq())
            try group.setProperties(props("renamed"))
            seen.append(try lastSeq())
            try group.resume()
            seen.append(try lastSeq())
            try #require(try transferNextFile(f.manager, content: content) != nil)
            seen.append(try lastSeq())
            try group.suspend()
            seen.append(try lastSeq())
            try job.cancel()
            seen.append(try lastSeq())
            try group.cancel()
            seen.append(try lastSeq())
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 }, "\(seen)")
            let ordered = try query(f.database, "SELECT kind FROM events ORDER BY seq").map { $0[0] }
            #expect(ordered == ["groupCreated", "modified", "modified", "modified", "modified", "progress", "fileComplete",
                                "modified", "jobCancelled", "cancelled"])
            let times = try query(f.database, "SELECT at FROM events ORDER BY seq").map { Int64($0[0]) ?? -1 }
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        }

        @Test func eventSequenceNumbersAreNeverReusedAfterAPurge() throws {
            let f = try Fixture()
            let (doomed, _) = try f.groupWithFiles(1, prefix: "doomed")
            try doomed.cancel()
            let highest = try f.count("SELECT max(seq) FROM events")
            try f.manager.purgeTombstones(olderThan: Date().addingTimeInterval(3_600))
            #expect(try f.count("SELECT count(*) FROM events") == 0)
            let fresh = try f.manager.createGroup(properties: props("fresh"))
            let seq = try f.count("SELECT seq FROM events WHERE group_id = \(f.rowID(fresh))")
            #expect(seq > highest)
        }

        @Test func failedCallsRecordNoEvent() throws {
            let f = try Fixture()
            let group = try f.manager.createGroup(properties: props())
            let job = try group.createJob()
            let before = try f.count("SELECT count(*) FROM events")
            expectError(.invalidArgument) { try group.setProperties(props("")) }
            expectError(.empty) { try group.resume() }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "ftp://x/y", local: f.scratch.path("y"))]) }
            expectError(.alreadyExists) { try group.createJob(id: job.id) }
            #expect(try f.count("SELECT count(*) FROM events") == before)
        }

        @Test func groupErrorIsRecordedWhenAFileFails() throws {
            let f = try Fixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "bad")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: content, partial: true))
            #expect(try TransferLedger(core: f.manager.core).fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 410", httpStatus: 410), retries: 0))
            let jobRow = try f.rowID(job)
            let rows = try query(f.database, "SELECT kind, state, job_id, file_index, detail FROM events ORDER BY seq DESC LIMIT 1")
            #expect(rows == [["groupError", "error", jobRow, "0", "HTTP 410"]])
            #expect(try f.eventKinds(group).contains("progress"))
        }
    }
}
