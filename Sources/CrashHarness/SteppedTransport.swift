import BackgroundCopy

/// A local-copy transport that hands over its bytes in small chunks and calls a hook (with the
/// source's path and the offset) before each one, so a workload can suspend, cancel or change the
/// source mid-file. Resumes like ``FileTransport``: the validator is the source's size and
/// modification time.
struct SteppedTransport: Transport {
    let chunk: Int
    let hook: (@Sendable (String, UInt64) async -> Void)?
    private let fileSystem = PosixFileSystem()

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let (path, size, validator, start) = try FileTransport.plan(request, fileSystem: fileSystem)
        var offset = start
        try await sink.begin(at: offset, total: size, validator: validator)
        let source = try fileSystem.openForReading(path)
        defer { fileSystem.close(source) }
        var buffer = [UInt8](repeating: 0, count: chunk)
        while offset < size {
            if let hook {
                try await sink.drain()  // the hook's suspend or cancel lands after the same checkpoints in every run
                await hook(path, offset)
            }
            let count = try fileSystem.read(source, into: &buffer, at: offset)
            guard count > 0 else {
                throw QueueError(.transfer, "source \(path) shrank", value: request.remote, isTransient: true)
            }
            try await sink.write(buffer.prefix(count))
            offset += UInt64(count)
        }
    }
}
