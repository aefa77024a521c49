import Foundation
import Testing
@testable import BackgroundCopy

// MARK: - cancel (job and group)

extension OperationsTests {
    @Suite("cancel")
    struct Cancel {
        /// One group, job `a` with a complete, a partial and a queued file, job `b` with one queued file.
        private func mixedGroup(_ f: OperationsFixture) throws -> (group: Group, a: Job, b: Job, partial: Claim) {
            let group = try f.manager.createGroup(properties: operationProps())
            let a = try group.createJob()
            let b = try group.createJob()
            try a.addFiles(f.scratch.specs(3, prefix: "a"))
            try b.addFiles(f.scratch.specs(1, prefix: "b"))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            let partial = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            try #require(FileManager.default.fileExists(atPath: partial.tempPath))
            return (group, a, b, partial)
        }

        @Test func jobCancelRetainsCompleteAndDiscardsIncompleteFilesOfThatJobOnly() throws {
            let f = try OperationsFixture()
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
            #expect(FileManager.default.contents(atPath: f.scratch.path("a0")) == Data(operationContent))
            #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
        }

        @Test func jobCancelKeepsTheGroupsState() throws {
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
            let (_, job) = try f.groupWithFiles(1, prefix: "twice")
            try job.cancel()
            let before = try f.digest()
            expectError(.notFound) { try job.cancel() }
            #expect(try f.digest() == before)
        }

        @Test func handlesOfACancelledJobThrowNotFound() throws {
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
            let (group, a, b, partial) = try mixedGroup(f)
            let groupRow = try f.rowID(group)
            let aRow = try f.rowID(a)
            let bRow = try f.rowID(b)
            try group.cancel()
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(aRow) ORDER BY position") == [["retained"], ["discarded"], ["discarded"]])
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(bRow)") == [["discarded"]])
            #expect(try query(f.database, "SELECT DISTINCT state FROM jobs") == [["cancelled"]])
            #expect(try query(f.database, "SELECT state, cancelled_at IS NOT NULL FROM groups WHERE id = \(groupRow)") == [["cancelled", "1"]])
            #expect(FileManager.default.contents(atPath: f.scratch.path("a0")) == Data(operationContent))
            #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
            #expect(!FileManager.default.fileExists(atPath: f.scratch.path("a1")))
        }

        @Test func groupCancelWhileAFileIsFinalizingRetainsItAtItsLocalPath() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "final")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            let claim = try #require(try ledger.claimNextFile())
            _ = FileManager.default.createFile(atPath: claim.tempPath, contents: Data(operationContent))
            #expect(try ledger.checkpoint(claim.fileRowID, bytesDone: 100, bytesTotal: 100, validator: nil))
            #expect(try ledger.beginFinalizing(claim.fileRowID, bytesTotal: 100))
            let jobRow = try f.rowID(job)
            try group.cancel()
            // Verified bytes count as complete: retained, and the rename is finished for the caller.
            #expect(try query(f.database, "SELECT state FROM files WHERE job_id = \(jobRow)") == [["retained"]])
            #expect(FileManager.default.contents(atPath: f.scratch.path("final0")) == Data(operationContent))
            #expect(!FileManager.default.fileExists(atPath: claim.tempPath))
        }

        @Test func groupCancelRecordsACancelledEvent() throws {
            let f = try OperationsFixture()
            let (group, _, _, _) = try mixedGroup(f)
            let groupRow = try f.rowID(group)
            try group.cancel()
            let rows = try query(f.database, "SELECT kind, state, detail FROM events WHERE group_id = \(groupRow) ORDER BY seq DESC LIMIT 1")
            #expect(rows == [["cancelled", "cancelled", "retained 1, discarded 3"]])
        }

        @Test func groupCancelTwiceThrowsNotFound() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "twice")
            try group.cancel()
            let before = try f.digest()
            let error = expectError(.notFound) { try group.cancel() }
            #expect(error?.value == group.id.description)
            #expect(try f.digest() == before)
        }

        @Test func groupCancelLeavesOtherGroupsUntouched() throws {
            let f = try OperationsFixture()
            let (doomed, _) = try f.groupWithFiles(1, prefix: "doomed")
            let (kept, keptJob) = try f.groupWithFiles(2, prefix: "kept")
            try kept.resume()
            try doomed.cancel()
            #expect(try f.manager.groups() == [kept])
            #expect(try kept.status().state == .queued)
            #expect(try f.fileStates(keptJob) == ["queued", "queued"])
        }

        @Test func handlesOfACancelledGroupThrowNotFound() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "h")
            try group.cancel()
            let before = try f.digest()
            expectError(.notFound) { try f.manager.group(group.id) }
            expectError(.notFound) { try group.properties() }
            expectError(.notFound) { try group.setProperties(operationProps("again")) }
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
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
            let id = GroupID()
            let group = try f.manager.createGroup(id: id, properties: GroupProperties(displayName: "purged", description: "bulky"))
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "p"))
            try group.cancel()
            try f.manager.purgeTombstones(olderThan: Purge.future())
            #expect(try f.count("SELECT count(*) FROM groups") == 1)
            expectError(.alreadyExists) { try f.manager.createGroup(id: id, properties: operationProps()) }
            expectError(.notFound) { try f.manager.group(id) }
            #expect(try f.manager.groups().isEmpty)
        }

        @Test func purgeTombstonesLeavesRecentTombstonesAlone() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "recent")
            try group.cancel()
            let before = try f.digest()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.past()) == 0)
            #expect(try f.digest() == before)
        }

        @Test func purgeTombstonesLeavesLiveGroupsUntouched() throws {
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
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
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "once")
            try group.cancel()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.future()) == 1)
            let before = try f.digest()
            #expect(try f.manager.purgeTombstones(olderThan: Purge.future()) == 0)
            #expect(try f.digest() == before)
        }
    }
}
