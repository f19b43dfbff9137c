#pragma once
// dispatcher: turns a request frame into a response frame. It checks the API key and version
// against the handler table before decoding, decodes, runs the handler and encodes the answer.
//
// Kafka's answers to bad requests: an unknown API key, an unsupported version (other than
// ApiVersions), or a body that does not decode closes the connection (the client cannot parse an
// answer it did not ask for). ApiVersions at an unsupported version gets UNSUPPORTED_VERSION with
// a v0 body (KIP-511), so the client can retry with a version it sees there.
#include "net/server.h"

namespace ms::broker {

class broker;

class dispatcher final : public net::request_handler {
public:
    explicit dispatcher(broker& owner) : _owner(owner) {}
    boost::asio::awaitable<net::handler_outcome> handle(iobuf frame,
                                                        const net::connection_info& conn) override;

private:
    broker& _owner;
};

} // namespace ms::broker
