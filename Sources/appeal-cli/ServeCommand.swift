import Appeals
import ArgumentParser
import Foundation
import Mailer
import NIOCore
import Web

/// `appeal-cli serve`: the campaign pages, supporters' confirmations, the dashboard and the sender, in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web server (campaign pages, confirmation links, dashboard) and the sender in one process.",
        discussion: """
            Listens on web.listen; links in confirmation emails start with web.baseURL. The dashboard (/admin) opens with \
            the secret in the environment variable web.adminSecretEnv names (APPEAL_ADMIN_SECRET by default). Letters of \
            every active campaign are sent as they come due, as by `send --watch`. SIGTERM or SIGINT: requests and \
            messages in progress finish, then exit 0.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .customLong("poll-seconds"), help: "Seconds between looks for letters that came due (1-3600).")
    var pollSeconds = 5

    func validate() throws {
        guard (1...3600).contains(pollSeconds) else { throw ValidationError("--poll-seconds must be from 1 to 3600") }
    }

    func run() async throws {
        let config = try options.loadConfig()
        let database = try options.openDatabase()
        let transport = try reporting { () throws(AppealsError) in try config.makeTransport() }
        let logger = ServiceRunner.logger("appeal.serve", verbose: options.verbose)
        let sender = try await ServiceRunner.sender(store: database, config: config, transport: transport, campaign: nil,
                                              pollSeconds: pollSeconds, logger: logger)
        let mailer = ConfirmationMailer(database: database, transport: transport, logger: logger)
        let secret = ProcessInfo.processInfo.environment[config.web.adminSecretEnv].flatMap { $0.isEmpty ? nil : $0 }
        let server = try reporting { () throws(AppealsError) in
            try WebServer(database: database, config: config, adminSecret: secret, outboxWaiting: mailer.wake, logger: logger)
        }
        defer { server.shutdown() }
        if secret == nil {
            logger.warning("the dashboard is closed: \(config.web.adminSecretEnv) is not set")
        }
        if !config.web.baseURL.lowercased().hasPrefix("https://"), !["127.0.0.1", "localhost", "[::1]"].contains(where: { config.web.baseURL.contains("//\($0)") }) {
            logger.warning("web.baseURL is not https: browsers keep the dashboard's cookie (Secure) only over https or on this machine")
        }
        logger.info("starting", metadata: ["listen": "\(config.web.listen)", "baseURL": "\(config.web.baseURL)"])
        try await ServiceRunner.run([server.application(), sender, mailer], logger: logger) { error in
            guard let error = error as? IOError, [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) else { return nil }
            return ("config: web.listen: cannot listen on \(config.web.listen): \(String(cString: strerror(error.errnoCode)))", 2)
        }
        logger.info("serve stopped")
    }
}
