import Foundation
import Testing
@testable import BackgroundCopy

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
            (.corrupt, 0x8007_0570),  // HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT)
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
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            #expect(expectError(.notFound) { try f.manager.group(GroupID()) }?.hresult == 0x8100_1004)
            #expect(expectError(.alreadyExists) { try f.manager.createGroup(id: group.id, properties: operationProps()) }?.hresult == 0x8007_0057)
            #expect(expectError(.invalidArgument) { try group.setProperties(operationProps("")) }?.hresult == 0x8007_0057)
            #expect(expectError(.empty) { try group.resume() }?.hresult == 0x8020_0003)
        }

        @Test func errorMessagesNameTheOffendingValue() throws {
            let f = try OperationsFixture()
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
            let f = try OperationsFixture()
            let (group, job) = try f.completeGroup(2, prefix: "ev")
            let groupRow = try f.rowID(group)
            let jobRow = try f.rowID(job)
            let kinds = try f.eventKinds(group)
            #expect(kinds.first == "groupCreated")
            #expect(
                kinds.filter { ["fileComplete", "jobComplete", "groupComplete"].contains($0) }
                    == ["fileComplete", "fileComplete", "jobComplete", "groupComplete"])
            #expect(kinds.last == "groupComplete")
            let files = try query(f.database, "SELECT job_id, file_index FROM events WHERE group_id = \(groupRow) AND kind = 'fileComplete' ORDER BY seq")
            #expect(files == [[jobRow, "0"], [jobRow, "1"]])
            #expect(try query(f.database, "SELECT job_id FROM events WHERE kind = 'jobComplete'") == [[jobRow]])
            #expect(try query(f.database, "SELECT state FROM events WHERE kind = 'groupComplete'") == [["complete"]])
        }

        @Test func jobCompleteIsRecordedPerJobAndGroupCompleteOnlyAtTheEnd() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "a"))
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "b"))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            #expect(try f.eventKinds(group).filter { $0 == "jobComplete" }.count == 1)
            #expect(!(try f.eventKinds(group).contains("groupComplete")))
            #expect(try group.status().state != .complete)
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            #expect(try f.eventKinds(group).filter { $0 == "jobComplete" }.count == 2)
            #expect(try f.eventKinds(group).filter { $0 == "groupComplete" }.count == 1)
            #expect(try group.status().state == .complete)
        }

        @Test func eventSequenceIsStrictlyIncreasing() throws {
            let f = try OperationsFixture()
            func lastSeq() throws -> Int { try f.count("SELECT coalesce(max(seq), 0) FROM events") }
            var seen: [Int] = []
            let group = try f.manager.createGroup(properties: operationProps())
            seen.append(try lastSeq())
            let job = try group.createJob()
            seen.append(try lastSeq())
            try job.addFiles(f.scratch.specs(2, prefix: "seq"))
            seen.append(try lastSeq())
            try group.setProperties(operationProps("renamed"))
            seen.append(try lastSeq())
            try group.resume()
            seen.append(try lastSeq())
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            seen.append(try lastSeq())
            try group.suspend()
            seen.append(try lastSeq())
            try job.cancel()
            seen.append(try lastSeq())
            try group.cancel()
            seen.append(try lastSeq())
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 }, "\(seen)")
            let ordered = try query(f.database, "SELECT kind FROM events ORDER BY seq").map { $0[0] }
            #expect(
                ordered == [
                    "groupCreated", "modified", "modified", "modified", "modified", "progress", "fileComplete",
                    "modified", "jobCancelled", "cancelled",
                ])
            let times = try query(f.database, "SELECT at FROM events ORDER BY seq").map { Int64($0[0]) ?? -1 }
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        }

        @Test func eventSequenceNumbersAreNeverReusedAfterAPurge() throws {
            let f = try OperationsFixture()
            let (doomed, _) = try f.groupWithFiles(1, prefix: "doomed")
            try doomed.cancel()
            let highest = try f.count("SELECT max(seq) FROM events")
            try f.manager.purgeTombstones(olderThan: Date().addingTimeInterval(3_600))
            #expect(try f.count("SELECT count(*) FROM events") == 0)
            let fresh = try f.manager.createGroup(properties: operationProps("fresh"))
            let seq = try f.count("SELECT seq FROM events WHERE group_id = \(f.rowID(fresh))")
            #expect(seq > highest)
        }

        @Test func failedCallsRecordNoEvent() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            let before = try f.count("SELECT count(*) FROM events")
            expectError(.invalidArgument) { try group.setProperties(operationProps("")) }
            expectError(.empty) { try group.resume() }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "ftp://x/y", local: f.scratch.path("y"))]) }
            expectError(.alreadyExists) { try group.createJob(id: job.id) }
            #expect(try f.count("SELECT count(*) FROM events") == before)
        }

        @Test func groupErrorIsRecordedWhenAFileFails() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "bad")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            #expect(try TransferLedger(core: f.manager.core).fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 410", httpStatus: 410), retries: 0))
            let jobRow = try f.rowID(job)
            let rows = try query(f.database, "SELECT kind, state, job_id, file_index, detail FROM events ORDER BY seq DESC LIMIT 1")
            #expect(rows == [["groupError", "error", jobRow, "0", "HTTP 410"]])
            #expect(try f.eventKinds(group).contains("progress"))
        }
    }
}
