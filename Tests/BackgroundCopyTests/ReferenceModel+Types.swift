import Foundation
@testable import BackgroundCopy

/// The values the reference model keeps and returns.
extension ReferenceModel {
    /// The first eight hex digits of an ID, for messages.
    static func short(_ id: UUID) -> String { String(id.uuidString.prefix(8)) }

    /// The temp file of a file (DESIGN.md, Durability step 1): `<local dir>/.<name>.<file id>.bgcopy-part`.
    static func tempPath(local: String, rowID: Int64) -> String {
        let slash = local.lastIndex(of: "/")!
        return "\(local[..<slash])/.\(local[local.index(after: slash)...]).\(rowID).bgcopy-part"
    }

    /// The error codes the model predicts; raw values are `QueueError.Code` descriptions.
    enum Failure: String, Sendable, Equatable {
        case notFound, alreadyExists, invalidState, invalidArgument, accessDenied, empty, storage
    }

    /// What a call returned, in a form both the model and the library can produce.
    enum Outcome: Equatable, CustomStringConvertible {
        case ok
        case failed(Failure)
        case claim(Claimed?)
        case flag(Bool)
        case purged(Int)

        var description: String {
            switch self {
            case .ok: "ok"
            case .failed(let failure): "error \(failure.rawValue)"
            case .claim(nil): "no claim"
            case .claim(let claimed?): "claim \(claimed)"
            case .flag(let flag): "\(flag)"
            case .purged(let count): "purged \(count)"
            }
        }

        /// The outcome without its values, for tallies.
        var kindDescription: String {
            switch self {
            case .claim(let claimed?): "claim" + (claimed.bytesDone > 0 ? " (resumed)" : "")
            case .purged(let count): count > 0 ? "purged some" : "purged none"
            default: description
            }
        }
    }

    /// A claimed file as the engine sees it.
    struct Claimed: Equatable, CustomStringConvertible {
        var fileRowID: Int64
        var group: UUID
        var remote: String
        var local: String
        var tempPath: String
        var bytesDone: UInt64
        var bytesTotal: UInt64?

        var description: String {
            "file #\(fileRowID) group \(ReferenceModel.short(group)) \(local) temp \(tempPath) done \(bytesDone) total \(bytesTotal.map(String.init) ?? "nil")"
        }
    }

    /// How a file spec given to addFiles will fare in validation.
    enum SpecKind: String, Sendable {
        /// Valid (https URL, absolute path in an existing writable directory).
        case good
        /// A scheme outside the allowed set: `invalidArgument`.
        case badScheme
        /// A relative local path: `invalidArgument`.
        case relativeLocal
        /// A local path whose directory does not exist: `accessDenied`.
        case missingDirectory
        /// A local path that is an existing directory: `invalidArgument`.
        case localIsDirectory
    }

    struct Spec: CustomStringConvertible {
        var kind: SpecKind
        var remote: String
        var local: String
        var sizeHint: UInt64?
        /// How many bytes the "server" has for this file (test data, not queue state).
        var content: UInt64

        var description: String {
            "\(kind == .good ? "" : "[\(kind.rawValue)] ")\((local as NSString).lastPathComponent) hint \(sizeHint.map(String.init) ?? "nil") size \(content)"
        }
    }

    struct File {
        var rowID: Int64
        var position: Int
        var remote: String
        var local: String
        var sizeHint: UInt64?
        var content: UInt64
        var state: FileState
        var bytesDone: UInt64 = 0
        var bytesTotal: UInt64?
        var tempPath: String?
    }

    struct Job {
        var id: UUID
        var group: UUID
        var cancelled = false
        var files: [File] = []
        /// `hex(id)` and `hex(group)`, kept since the rows are rendered after every operation.
        let hex: String
        let groupHex: String

        init(id: UUID, group: UUID) {
            self.id = id
            self.group = group
            hex = ReferenceModel.hex(id)
            groupHex = ReferenceModel.hex(group)
        }
    }

    struct Group {
        var id: UUID
        var state: GroupState = .suspended
        var priority: Priority
        var errorCount = 0
        /// The file of the last failure (its job, position and row ID), until a resume clears it.
        var lastError: (job: UUID, position: Int, rowID: Int64)?
        /// A cancelled group whose jobs, files and events were purged (its row stays).
        var purged = false
        let hex: String

        init(id: UUID, priority: Priority) {
            self.id = id
            self.priority = priority
            hex = ReferenceModel.hex(id)
        }
    }

    /// One row of the events outbox: the group, job and file index it names, and its kind,
    /// rendered as the raw query renders it.
    struct Event: Equatable {
        var group: UUID
        var job: UUID?
        var row: String

        init(group: UUID, job: UUID?, fileIndex: Int?, kind: String) {
            self.group = group
            self.job = job
            row = "\(ReferenceModel.hex(group))|\(job.map(ReferenceModel.hex) ?? "NULL")|\(fileIndex.map(String.init) ?? "NULL")|\(kind)"
        }
    }

    struct Progress: Equatable, CustomStringConvertible {
        var bytesDone: UInt64 = 0
        var bytesTotal: UInt64 = 0
        var filesDone = 0
        var filesTotal = 0
        var filesOfUnknownSize = 0

        /// QM_PROGRESS_PERCENT_DONE as TransferProgress documents it: 100 when every file is
        /// complete; else by bytes when every size is known (at most 99), else by files; 0 when empty.
        var percent: Int {
            if filesTotal > 0 && filesDone == filesTotal { return 100 }
            if filesOfUnknownSize == 0 && bytesTotal > 0 { return Int(min(99, bytesDone * 100 / bytesTotal)) }
            return filesTotal == 0 ? 0 : filesDone * 100 / filesTotal
        }

        var description: String {
            "bytes \(bytesDone)/\(bytesTotal) files \(filesDone)/\(filesTotal) unknown \(filesOfUnknownSize) \(percent)%"
        }
    }
}
