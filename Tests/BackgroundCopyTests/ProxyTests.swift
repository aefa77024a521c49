import BackgroundCopyTesting
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Proxies: http_proxy, https_proxy, no_proxy and the Configuration setting", .alone)
struct ProxyTests {
    typealias Proxy = ProxySettings.Proxy

    @Test func theEnvironmentIsReadAsCurlReadsIt() {
        let settings = ProxySettings.environment([
            "http_proxy": "http://proxy.corp:3128", "HTTPS_PROXY": "secure.corp", "NO_PROXY": "internal.corp, .lan ,",
        ])
        #expect(settings.http == Proxy(host: "proxy.corp", port: 3128))
        #expect(settings.https == Proxy(host: "secure.corp", port: 80))
        #expect(settings.bypass == ["internal.corp", ".lan"])
        #expect(
            ProxySettings.environment(["HTTP_PROXY": "http://from-a-cgi-header:1"]).http == nil,
            "uppercase HTTP_PROXY is ignored, as curl ignores it")
        let all = ProxySettings.environment(["all_proxy": "socks5://tunnel:9050", "https_proxy": "http://web:8080"])
        #expect(all.http == Proxy(host: "tunnel", port: 9050, kind: .socks5))
        #expect(all.https == Proxy(host: "web", port: 8080))
        #expect(ProxySettings.environment([:]) == .none)
    }

    @Test func aProxyURLCarriesItsUserAndPasswordAndOnlyHTTPOrSOCKS5IsAccepted() {
        #expect(Proxy(url: "http://alice:s%20cret@proxy:3128") == Proxy(host: "proxy", port: 3128, user: "alice", password: "s cret"))
        #expect(Proxy(url: "socks5://tunnel") == Proxy(host: "tunnel", port: 1080, kind: .socks5))
        #expect(Proxy(url: "https://tls-proxy:443") == nil)
        #expect(Proxy(url: "") == nil)
    }

    @Test func eachSchemeHasItsProxyAndLoopbackOrBypassedHostsGoDirect() {
        let web = Proxy(host: "web", port: 8080)
        let secure = Proxy(host: "secure", port: 8443)
        let settings = ProxySettings(http: web, https: secure, bypass: ["example.com", ".lan", "10.1.2.3"])
        #expect(settings.proxy(for: "http://files.test/a") == web)
        #expect(settings.proxy(for: "https://files.test/a") == secure)
        #expect(settings.proxy(for: "https://example.com/a") == nil)
        #expect(settings.proxy(for: "https://cdn.example.com/a") == nil)
        #expect(settings.proxy(for: "https://notexample.com/a") == secure)
        #expect(settings.proxy(for: "http://printer.lan/a") == nil)
        #expect(settings.proxy(for: "http://10.1.2.3:81/a") == nil)
        for loopback in ["http://127.0.0.1:8080/a", "http://127.5.0.1/a", "http://localhost/a", "http://[::1]:80/a"] {
            #expect(settings.proxy(for: loopback) == nil, "\(loopback)")
        }
        #expect(settings.proxy(for: "file:///tmp/a") == nil)
        #expect(ProxySettings(http: web, bypass: ["*"]).proxy(for: "http://files.test/a") == nil)
    }

    @Test func theEngineFetchesThroughTheConfiguredProxyWhichTunnelsToTheServer() async throws {
        let scratch = Scratch()
        let server = try await LoopbackServer.start()
        let proxy = try await LoopbackProxy.start { _, _ in (server.host, server.port) }
        server.serve("/proxied.bin", size: 1_500_000, seed: 5)
        var configuration = scratch.engineConfiguration()
        configuration.proxies = ProxySettings(http: Proxy(host: proxy.host, port: proxy.port))
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("proxied"))
        try await group.createJob().addFiles([
            FileSpec(remote: "http://files.example.test/proxied.bin", local: scratch.path("proxied.bin")),
            FileSpec(remote: server.url("/direct.bin"), local: scratch.path("direct.bin")),
        ])
        server.serve("/direct.bin", size: 1000, seed: 6)
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(20)) { try group.status().state == .complete })
        await engine.stop()
        try await proxy.shutdown()
        try await server.shutdown()

        #expect(scratch.contents("proxied.bin") == server.expected("/proxied.bin"))
        #expect(scratch.contents("direct.bin") == server.expected("/direct.bin"))
        #expect(!proxy.tunnels.isEmpty && proxy.tunnels.allSatisfy { $0 == "files.example.test:80" }, "\(proxy.tunnels)")
        #expect(server.requests("/proxied.bin").first?.header("Host") == "files.example.test")
        #expect(server.requests("/direct.bin").count == 1, "the loopback URL went direct: the proxy saw only its host")
    }

    @Test func bgcopyDownloadHonoursHttpProxyFromTheEnvironment() async throws {
        let scratch = Scratch()
        let server = try await LoopbackServer.start()
        let proxy = try await LoopbackProxy.start { _, _ in (server.host, server.port) }
        server.serve("/env.bin", size: 200_000, seed: 7)
        let result = try await CLI.run(
            ["download", "http://mirror.example.test:8080/env.bin", "--to", scratch.path("out"), "--plain"],
            scratch, environment: ["http_proxy": "http://\(proxy.host):\(proxy.port)"])
        try await proxy.shutdown()
        try await server.shutdown()
        #expect(result.status == 0, "\(result)")
        #expect(scratch.contents("out/env.bin") == server.expected("/env.bin"))
        #expect(proxy.tunnels == ["mirror.example.test:8080"])
    }
}
