import Foundation

/// Copies local files: `file://` URLs and absolute paths. Resumable: the validator is the
/// source's size and modification time, so a changed source starts over.
public struct FileTransport: Transport {
    let fileSystem: any FileSystem
    /// Bytes read per step.
    let chunkSize: Int

    /// A transport over the real file system.
    public init() {
        self.init(fileSystem: PosixFileSystem())
    }

    init(fileSystem: any FileSystem, chunkSize: Int = 1 << 20) {
        self.fileSystem = fileSystem
        self.chunkSize = chunkSize
    }

    /// Copies the source into `sink`, from `request.offset` when the source is unchanged.
    ///
    /// - Throws: `transfer` (permanent) if the source is missing or not a regular file;
    ///   `fileSystem` if reading fails.
    public func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let (path, size, validator, start) = try FileTransport.plan(request, fileSystem: fileSystem)
        var offset = start
        try await sink.begin(at: offset, total: size, validator: validator)
        let source = try fileSystem.openForReading(path)
        defer { fileSystem.close(source) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while offset < size {
            let count = try fileSystem.read(source, into: &buffer, at: offset)
            guard count > 0 else {
                throw QueueError(.transfer, "source \(path) shrank while being copied", value: request.remote, isTransient: true)
            }
            try await sink.write(buffer.prefix(count))
            offset += UInt64(count)
        }
    }

    /// Where a copy starts: the source's path, size and validator (its size and modification
    /// time), and the offset to resume from — 0 when the source changed since the held bytes.
    package static func plan(_ request: TransferRequest, fileSystem: any FileSystem) throws(QueueError)
        -> (path: String, size: UInt64, validator: String, offset: UInt64)
    {
        let path = try FileTransport.path(of: request.remote)
        guard try fileSystem.kind(of: path) == .regular, let metadata = try fileSystem.metadata(of: path) else {
            throw QueueError(.transfer, "source \(path) does not exist or is not a regular file", value: request.remote, systemError: 2)
        }
        let validator = "\(metadata.size)-\(metadata.modified)"
        let resume = request.offset > 0 && request.validator == validator && request.offset <= metadata.size
        return (path, metadata.size, validator, resume ? request.offset : 0)
    }

    /// The absolute path a `file://` URL or a plain absolute path names.
    package static func path(of remote: String) throws(QueueError) -> String {
        if remote.hasPrefix("/") { return remote }
        guard let components = URLComponents(string: remote), components.scheme?.lowercased() == "file",
            components.path.hasPrefix("/")
        else {
            throw QueueError(.transfer, "\(remote) is not a local file", value: remote)
        }
        return components.path
    }
}
