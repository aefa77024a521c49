/// A file-system change that follows a committed transaction (DESIGN.md, Durability steps 4–5).
///
/// Effects are idempotent: applying one twice, or after a crash half-way, ends in the same place.
/// The database already says what the files should be; an effect only makes the disk agree.
/// ``Reconciler/apply(_:)`` carries them out.
struct FileEffect: Sendable, Equatable {
    enum Action: Sendable, Equatable {
        /// Remove the temp file of a discarded file.
        case removeTemp
        /// Finish the rename of a file cancelled while finalizing (its bytes were verified): temp → local.
        case finishRename
    }

    let fileRowID: Int64
    let action: Action
    let tempPath: String
    let localPath: String
}
