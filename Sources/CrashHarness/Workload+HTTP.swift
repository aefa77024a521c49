import AsyncHTTPClient
import BackgroundCopy
import Foundation
import BackgroundCopyTesting
import NIOPosix

extension Workload {
    /// Two files downloaded over HTTP from a loopback server in the same process: the first is
    /// cut off mid-body once, its group suspended and resumed, and it resumes with `Range` from
    /// its last checkpoint. The kill tier only: how a server splits its body varies between runs,
    /// so the count of durability points does too.
    static let http = Workload(name: "http") { ctx in
        let server = try await LoopbackServer.start()
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
        do {
            try await downloads(ctx, server: server, transport: HTTPTransport(client: client))
        } catch {
            try? await client.shutdown()
            try? await server.shutdown()
            throw error
        }
        try await client.shutdown()
        try await server.shutdown()
    }

    private static func downloads(_ ctx: WorkloadContext, server: LoopbackServer, transport: HTTPTransport) async throws {
        let sources = try [("h0.bin", 40_000), ("h1.bin", 20_000)].enumerated().map { index, file in
            let path = try ctx.source(file.0, size: file.1, seed: UInt8(80 + index))
            server.serve("/\(file.0)", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            return (ctx.local(file.0), path)
        }
        server.setFault("/h0.bin", .closeAfter(bytes: 10_000), times: 1)
        try ctx.open()
        let group = try ctx.createGroup(12)
        try await ctx.add(sources, to: try group.createJob()) { server.url("/\($0.split(separator: "/").last!)") }
        try ctx.resume(group)
        try await ctx.transfer(transports: ["http": transport])
        try ctx.suspend(group)
        try ctx.resume(group)
        try await ctx.transfer(transports: ["http": transport])
    }
}
