import Appeals
import AppealsPostgres
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
        let transport = try reporting { () throws(AppealsError) in try config.makeTransport() }
        guard config.usesPostgres else {
            let database = try options.openDatabase()
            let store = SQLiteWebStore(database: database)
            defer { store.shutdown() }
            try await serve(web: store, delivery: database, config: config, transport: transport)
            return
        }
        let command = self
        // The pages' and the sender's, and one per SMTP connection and one more for the sender's notes.
        let failure = try await options.withPostgres(config, connections: Self.postgresConnections + config.smtp.connections + 1) {
            store throws(AppealsError) -> (any Error)? in
            do {
                try await command.serve(web: store, delivery: PostgresDeliveryStore(store), config: config, transport: transport)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Connections of a `serve` process's main pool on PostgreSQL: the sender's 3 and the pages' requests.
    static let postgresConnections = 10

    /// The command itself, on either store.
    private func serve(web store: any WebStore, delivery: any DeliveryStore, config: AppConfig, transport: any MailTransport) async throws {
        let logger = ServiceRunner.logger("appeal.serve", verbose: options.verbose)
        let presence = try ServiceRunner.presence(on: delivery)
        defer { presence?.end() }
        let sender = try await ServiceRunner.sender(store: delivery, config: config, transport: transport, campaign: nil,
                                                    pollSeconds: pollSeconds, logger: logger)
        let mailer = ConfirmationMailer(store: store, transport: transport, logger: logger)
        let secret = ProcessInfo.processInfo.environment[config.web.adminSecretEnv].flatMap { $0.isEmpty ? nil : $0 }
        let server = try await reporting { () async throws(AppealsError) in
            try await WebServer(store: store, config: config, adminSecret: secret, outboxWaiting: mailer.wake, logger: logger)
        }
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
