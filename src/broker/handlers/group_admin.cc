// ListGroups (16), DescribeGroups (15), DeleteGroups (42): groups as operators see them. Groups
// live on several shards; each shard answers for its own.
#include <algorithm>

#include "broker/handlers/group_routing.h"
#include "broker/handlers/owner_plan.h"

namespace ms::broker {

namespace {

std::vector<net::shard_id> every_shard(broker& owner) {
    std::vector<net::shard_id> all(owner.shards().size());
    for (net::shard_id i = 0; i < all.size(); ++i) {
        all[i] = i;
    }
    return all;
}

// Request positions of `ids`, grouped by the shard owning each group.
owner_plan<size_t> plan_by_group(broker& owner, const std::vector<std::string>& ids) {
    owner_plan<size_t> plan;
    for (size_t i = 0; i < ids.size(); ++i) {
        plan.add(owner.group_shard(ids[i]), i);
    }
    return plan;
}

// The owners' answers put back in request order.
template<typename T>
std::vector<T> in_request_order(const owner_plan<size_t>& plan, std::vector<std::vector<T>> per_owner,
                                size_t n) {
    std::vector<T> out(n);
    for (size_t o = 0; o < plan.owners.size(); ++o) {
        for (size_t k = 0; k < plan.items[o].size(); ++k) {
            out[plan.items[o][k]] = std::move(per_owner[o][k]);
        }
    }
    return out;
}

} // namespace

boost::asio::awaitable<handler_reply> handle_list_groups(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::list_groups_request>(body);
    std::vector<groups::group_state> states;
    bool unknown_state_only = !request.states_filter.empty();
    for (const auto& name : request.states_filter) {
        if (auto s = groups::parse_state(name)) {
            states.push_back(*s);
            unknown_state_only = false;
        }
    }
    protocol::list_groups_response response;
    if (unknown_state_only) {
        co_return handler_reply{std::move(response)}; // no group is in a state that does not exist
    }
    broker& owner = ctx.owner;
    auto work = [&owner, &states](net::shard_id, auto reply) { reply(owner.groups_here().list(states)); };
    std::vector<std::vector<groups::listed_group>> per_shard =
      co_await net::call_on_each<std::vector<groups::listed_group>>(owner.shards(), every_shard(owner),
                                                                    std::move(work));
    for (auto& listed : per_shard) {
        for (auto& g : listed) {
            auto& out = response.groups.emplace_back();
            out.group_id = std::move(g.group_id);
            out.protocol_type = std::move(g.protocol_type);
            out.group_state = std::string(groups::state_name(g.state));
        }
    }
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_describe_groups(request_context& ctx,
                                                             protocol::any_request& body) {
    const auto& request = std::get<protocol::describe_groups_request>(body);
    broker& owner = ctx.owner;
    const owner_plan<size_t> plan = plan_by_group(owner, request.groups);
    auto work = [&owner, &plan, &request](net::shard_id shard, auto reply) {
        std::vector<groups::group_description> out;
        for (size_t i : plan.items_for(shard)) {
            out.push_back(owner.groups_here().describe(request.groups[i]));
        }
        reply(std::move(out));
    };
    std::vector<std::vector<groups::group_description>> per_owner =
      co_await net::call_on_each<std::vector<groups::group_description>>(owner.shards(), plan.owners,
                                                                         std::move(work));
    std::vector<groups::group_description> by_request =
      in_request_order(plan, std::move(per_owner), request.groups.size());
    protocol::describe_groups_response response;
    for (auto& d : by_request) {
        auto& out = response.groups.emplace_back();
        out.error_code = d.error;
        out.group_id = std::move(d.group_id);
        out.group_state = std::string(groups::state_name(d.state));
        out.protocol_type = std::move(d.protocol_type);
        out.protocol_data = std::move(d.protocol_name);
        for (auto& m : d.members) {
            auto& om = out.members.emplace_back();
            om.member_id = std::move(m.member_id);
            om.group_instance_id = std::move(m.instance_id);
            om.client_id = std::move(m.client_id);
            om.client_host = std::move(m.client_host);
            om.member_metadata = std::move(m.metadata);
            om.member_assignment = std::move(m.assignment);
        }
    }
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_delete_groups(request_context& ctx,
                                                           protocol::any_request& body) {
    const auto& request = std::get<protocol::delete_groups_request>(body);
    broker& owner = ctx.owner;
    const owner_plan<size_t> plan = plan_by_group(owner, request.groups_names);
    auto work = [&owner, &plan, &request](net::shard_id shard, auto reply) {
        std::vector<std::string> ids;
        for (size_t i : plan.items_for(shard)) {
            ids.push_back(request.groups_names[i]);
        }
        owner.groups_here().delete_groups(std::move(ids), std::move(reply));
    };
    std::vector<std::vector<int16_t>> per_owner =
      co_await net::call_on_each<std::vector<int16_t>>(owner.shards(), plan.owners, std::move(work));
    const std::vector<int16_t> errors =
      in_request_order(plan, std::move(per_owner), request.groups_names.size());
    protocol::delete_groups_response response;
    for (size_t i = 0; i < errors.size(); ++i) {
        auto& out = response.results.emplace_back();
        out.group_id = request.groups_names[i];
        out.error_code = errors[i];
    }
    co_return handler_reply{std::move(response)};
}

} // namespace ms::broker
