//! The VPC eksctl creates for a cluster that names no existing one (no `vpc.id`, no
//! `vpc.subnets`), rendered into the cluster stack after eksctl's `pkg/cfn/builder/vpc_ipv4.go`
//! (`IPv4VPCResourceSet`: resources, logical ids, tags, outputs) and `pkg/vpc/vpc.go`
//! (`SetSubnets`, `SplitInto8`/`SplitInto16`: the CIDR split). The VPC CIDR (`vpc.cidr`, default
//! 192.168.0.0/16, a /16 to /24) is split into 8 equal blocks (16 when there are more than four
//! zones): the public subnets take the first blocks, one per zone in zone order, the private
//! subnets the next ones. Each public subnet routes to an internet gateway; each zone's private
//! route table routes to the NAT gateway(s) `vpc.nat.gateway` asks for (`Single`, the default: one
//! in the first zone's public subnet; `HighlyAvailable`: one per zone; `Disable`: none).
//!
//! An IPv6 cluster gets eksctl's IPv6 VPC instead (`vpc_ipv6.go`, `IPv6VPCResourceSet`, with
//! `calculateDesiredMask` from `vpc.go`): the same VPC plus an Amazon-provided IPv6 block; `2n + 2`
//! blocks cut by `Fn::Cidr` at deploy time (public subnets take the first `n`, private the next);
//! dual-stack subnets (private ones assign IPv6 addresses on creation); an egress-only internet
//! gateway for the private subnets' IPv6 traffic and one NAT gateway for their IPv4 traffic.
//!
//! It deliberately does not render a user-given IPv6 block (`vpc.ipv6Cidr`/`ipv6Pool`),
//! `autoAllocateIPv6` on an IPv4 VPC (both warned about), the VPC endpoints of a fully private cluster (`privateCluster.enabled` is refused), subnet hostname
//! types, local zones or Outposts; and it never asks EC2 which zones exist (see
//! [`crate::eksctl::default_zones`]). Unlike eksctl, whose Go maps give the subnets in random
//! order, subnets and the `SubnetsPublic`/`SubnetsPrivate` outputs follow the zone order, so node
//! groups can pick a zone's subnet by its index.

use serde_json::{json, Value};

use super::{get_att, name_tag, outputs as out, ref_, RenderError, Template};
use crate::eksctl::{ClusterConfig, DEFAULT_NAT_GATEWAY, DEFAULT_VPC_CIDR};
use crate::path::FieldPath;

pub(crate) const VPC: &str = "VPC";
const IGW: &str = "InternetGateway";
const GATEWAY_ATTACHMENT: &str = "VPCGatewayAttachment";
const PUBLIC_ROUTE_TABLE: &str = "PublicRouteTable";
const INTERNET: &str = "0.0.0.0/0";

/// How the private subnets reach the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nat {
    Single,
    HighlyAvailable,
    Disable,
}

/// One zone of the created VPC and its two subnets' CIDRs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Zone {
    pub name: String,
    /// The zone as eksctl writes it in logical ids: upper case without dashes (`USWEST2A`).
    pub alias: String,
    pub public_cidr: String,
    pub private_cidr: String,
}

/// The VPC eksync creates, before it becomes resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatedVpc {
    pub cidr: String,
    pub zones: Vec<Zone>,
    pub nat: Nat,
    /// eksctl's IPv6 VPC (`IPv6VPCResourceSet`) for an IPv6 cluster: an Amazon-provided IPv6 block,
    /// dual-stack subnets cut by `Fn::Cidr` at deploy time, an egress-only gateway and one NAT
    /// gateway; its subnets are named `PublicSubnet<ZONE>`/`PrivateSubnet<ZONE>`.
    pub ipv6: bool,
}

impl CreatedVpc {
    /// The logical id of a zone's public or private subnet, as eksctl names it for this VPC kind.
    fn subnet_id(&self, public: bool, alias: &str) -> String {
        match (self.ipv6, public) {
            (false, true) => format!("SubnetPublic{alias}"),
            (false, false) => format!("SubnetPrivate{alias}"),
            (true, true) => format!("PublicSubnet{alias}"),
            (true, false) => format!("PrivateSubnet{alias}"),
        }
    }

    pub(crate) fn public_subnet_refs(&self) -> Vec<Value> {
        self.zones
            .iter()
            .map(|z| ref_(&self.subnet_id(true, &z.alias)))
            .collect()
    }

    pub(crate) fn private_subnet_refs(&self) -> Vec<Value> {
        self.zones
            .iter()
            .map(|z| ref_(&self.subnet_id(false, &z.alias)))
            .collect()
    }
}

/// eksctl's logical-id form of a zone: `us-west-2a` -> `USWEST2A`.
pub(crate) fn zone_alias(az: &str) -> String {
    az.chars()
        .filter(|c| *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Works out the VPC to create, reporting every problem of the `vpc` section and the zones.
pub(crate) fn plan(cfg: &ClusterConfig) -> Result<CreatedVpc, Vec<RenderError>> {
    let mut errors = Vec::new();
    let vpc_path = FieldPath::keys(&["vpc"]);
    let vpc = cfg.vpc.clone().unwrap_or_default();
    let nat = match cfg.nat_gateway().unwrap_or(DEFAULT_NAT_GATEWAY) {
        "Single" => Nat::Single,
        "HighlyAvailable" => Nat::HighlyAvailable,
        "Disable" => Nat::Disable,
        other => {
            errors.push(RenderError::InvalidVpc {
                path: vpc_path.key("nat").key("gateway"),
                reason: format!(
                    "NAT gateway mode {other:?} is not one of Single, HighlyAvailable, Disable"
                ),
            });
            Nat::Single
        }
    };
    let (zones, defaulted) = cfg.vpc_zones();
    let zones_path = if defaulted {
        FieldPath::keys(&["metadata", "region"])
    } else {
        FieldPath::keys(&["availabilityZones"])
    };
    let region = cfg.metadata.region.as_str();
    for (i, z) in zones.iter().enumerate() {
        let suffix = z.strip_prefix(region).unwrap_or_default();
        let ok = !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_lowercase());
        if !ok {
            errors.push(RenderError::InvalidVpc {
                path: zones_path.index(i),
                reason: format!(
                    "{z:?} is not an availability zone of the region {region} (like {region}a)"
                ),
            });
        }
        if zones[..i].contains(z) {
            errors.push(RenderError::InvalidVpc {
                path: zones_path.index(i),
                reason: format!("availability zone {z:?} is listed twice"),
            });
        }
    }
    if zones.len() < 2 {
        errors.push(RenderError::InvalidVpc {
            path: zones_path.clone(),
            reason: format!(
                "a VPC eksctl creates needs at least 2 availability zones, {} given",
                zones.len()
            ),
        });
    }
    let cidr_text = vpc.cidr.as_deref().unwrap_or(DEFAULT_VPC_CIDR);
    let blocks = match split(cidr_text, zones.len() * 2) {
        Ok(b) => b,
        Err(reason) => {
            errors.push(RenderError::InvalidVpc {
                path: vpc_path.key("cidr"),
                reason,
            });
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let n = zones.len();
    let zones = zones
        .iter()
        .enumerate()
        .map(|(i, z)| Zone {
            name: z.clone(),
            alias: zone_alias(z),
            public_cidr: blocks.get(i).cloned().unwrap_or_default(),
            private_cidr: blocks.get(i + n).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(CreatedVpc {
        // The network address of the VPC CIDR, as eksctl's parsed CIDR prints it (the split
        // above parsed it, so `normalize` succeeds).
        cidr: normalize(cidr_text).unwrap_or_else(|| cidr_text.to_string()),
        zones,
        // An IPv6 VPC always gets one NAT gateway (vpc.nat is refused there, see cluster.rs).
        nat: if cfg.ipv6() { Nat::Single } else { nat },
        ipv6: cfg.ipv6(),
    })
}

/// Parses an IPv4 CIDR into its network address (host bits cleared) and prefix length.
fn parse(cidr: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = cidr.trim().split_once('/')?;
    let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
    let octets: Vec<u32> = addr
        .split('.')
        .map(|o| o.parse::<u8>().ok().map(u32::from))
        .collect::<Option<_>>()?;
    if octets.len() != 4 {
        return None;
    }
    let ip = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    Some((ip & mask, prefix))
}

fn format(ip: u32, prefix: u32) -> String {
    format!(
        "{}.{}.{}.{}/{prefix}",
        ip >> 24,
        (ip >> 16) & 0xff,
        (ip >> 8) & 0xff,
        ip & 0xff
    )
}

fn normalize(cidr: &str) -> Option<String> {
    parse(cidr).map(|(ip, p)| format(ip, p))
}

/// eksctl's split of the VPC CIDR for `subnets` subnets: 8 blocks (3 more prefix bits) when 8 are
/// enough, else 16 (4 more bits); the prefix must be /16 to /24.
pub(crate) fn split(cidr: &str, subnets: usize) -> Result<Vec<String>, String> {
    let (ip, prefix) =
        parse(cidr).ok_or_else(|| format!("{cidr:?} is not an IPv4 CIDR like 192.168.0.0/16"))?;
    if !(16..=24).contains(&prefix) {
        return Err(format!(
            "the VPC CIDR prefix must be between /16 and /24 (got /{prefix})"
        ));
    }
    let bits = match subnets {
        0..=8 => 3,
        9..=16 => 4,
        n => return Err(format!("cannot create more than 16 subnets, {n} requested")),
    };
    let len = prefix + bits;
    Ok((0..(1u32 << bits))
        .map(|i| format(ip + (i << (32 - len)), len))
        .collect())
}

/// A `Name`-tagged resource body: `props` plus eksctl's `Name` tag after any tags it holds.
fn tagged(id: &str, mut props: Value, extra_tags: Vec<Value>) -> Value {
    let mut tags = extra_tags;
    if let Value::Array(name) = name_tag(id) {
        tags.extend(name);
    }
    props["Tags"] = Value::Array(tags);
    json!({ "Properties": props })
}

/// The VPC itself (eksctl's `VPC`, DNS support and host names on), the same in both kinds.
fn add_vpc(t: &mut Template, vpc: &CreatedVpc) {
    t.resource(
        VPC,
        "AWS::EC2::VPC",
        tagged(
            VPC,
            json!({"CidrBlock": vpc.cidr, "EnableDnsHostnames": true, "EnableDnsSupport": true}),
            Vec::new(),
        ),
    );
}

/// The internet gateway and its attachment to the VPC.
fn add_internet_gateway(t: &mut Template) {
    t.resource(
        IGW,
        "AWS::EC2::InternetGateway",
        tagged(IGW, json!({}), Vec::new()),
    );
    t.resource(
        GATEWAY_ATTACHMENT,
        "AWS::EC2::VPCGatewayAttachment",
        json!({"Properties": {"InternetGatewayId": ref_(IGW), "VpcId": ref_(VPC)}}),
    );
}

/// The exported `SubnetsPrivate` and `SubnetsPublic` outputs, in zone order.
fn add_subnet_outputs(t: &mut Template, vpc: &CreatedVpc) {
    t.output(
        out::SUBNETS_PRIVATE,
        json!({"Fn::Join": [",", vpc.private_subnet_refs()]}),
        true,
    );
    t.output(
        out::SUBNETS_PUBLIC,
        json!({"Fn::Join": [",", vpc.public_subnet_refs()]}),
        true,
    );
}

/// eksctl's `calculateDesiredMask`: the host bits of each of `partitions` equal subnets of a VPC
/// with this prefix length (`Fn::Cidr`'s third argument), rounded down.
fn subnet_host_bits(prefix: u32, partitions: usize) -> u32 {
    let host = 32u32.saturating_sub(prefix);
    let partitions = u64::try_from(partitions).unwrap_or(u64::MAX).max(1);
    (0..=host)
        .rev()
        .find(|b| (1u64 << b).saturating_mul(partitions) <= (1u64 << host))
        .unwrap_or(0)
}

/// Adds eksctl's IPv6 VPC (`vpc_ipv6.go`): subnet `i` of `partitions` takes block `i` of both the
/// VPC's IPv4 CIDR and its first IPv6 block, public subnets first.
fn add_ipv6_resources(t: &mut Template, vpc: &CreatedVpc) {
    const CIDR_BLOCK: &str = "IPv6CidrBlock";
    const EIGW: &str = "EgressOnlyInternetGateway";
    const EIP: &str = "EIP";
    const NAT: &str = "NATGateway";
    let vpc_ref = ref_(VPC);
    let n = vpc.zones.len();
    let partitions = n * 2 + 2;
    let prefix = parse(&vpc.cidr).map_or(16, |(_, p)| p);
    let bits = subnet_host_bits(prefix, partitions);
    let ipv4_blocks = json!({"Fn::Cidr": [get_att(VPC, "CidrBlock"), partitions, bits]});
    let ipv6_blocks = json!({"Fn::Cidr": [
        {"Fn::Select": [0, get_att(VPC, "Ipv6CidrBlocks")]}, partitions, 64
    ]});
    add_vpc(t, vpc);
    t.resource(
        CIDR_BLOCK,
        "AWS::EC2::VPCCidrBlock",
        json!({"Properties": {"AmazonProvidedIpv6CidrBlock": true, "VpcId": vpc_ref}}),
    );
    let subnet = |t: &mut Template, i: usize, z: &Zone, public: bool| {
        let id = vpc.subnet_id(public, &z.alias);
        let mut props = json!({
            "AvailabilityZone": z.name,
            "CidrBlock": {"Fn::Select": [i, ipv4_blocks]},
            "Ipv6CidrBlock": {"Fn::Select": [i, ipv6_blocks]},
            "VpcId": vpc_ref,
        });
        let role = if public {
            props["MapPublicIpOnLaunch"] = json!(true);
            "kubernetes.io/role/elb"
        } else {
            props["AssignIpv6AddressOnCreation"] = json!(true);
            "kubernetes.io/role/internal-elb"
        };
        let mut body = tagged(&id, props, vec![json!({"Key": role, "Value": "1"})]);
        body["DependsOn"] = json!([CIDR_BLOCK]);
        t.resource(&id, "AWS::EC2::Subnet", body);
        id
    };
    for (i, z) in vpc.zones.iter().enumerate() {
        let rt = format!("PrivateRouteTable{}", z.alias);
        t.resource(
            &rt,
            "AWS::EC2::RouteTable",
            tagged(&rt, json!({"VpcId": vpc_ref}), Vec::new()),
        );
        let id = subnet(t, i + n, z, false);
        t.resource(
            &format!("RouteTableAssociationPrivate{}", z.alias),
            "AWS::EC2::SubnetRouteTableAssociation",
            json!({"Properties": {"RouteTableId": ref_(&rt), "SubnetId": ref_(&id)}}),
        );
    }
    add_internet_gateway(t);
    if let Some(first) = vpc.zones.first() {
        t.resource(
            NAT,
            "AWS::EC2::NatGateway",
            json!({
                "DependsOn": [EIP, vpc.subnet_id(true, &first.alias), GATEWAY_ATTACHMENT],
                "Properties": {
                    "AllocationId": get_att(EIP, "AllocationId"),
                    "SubnetId": ref_(&vpc.subnet_id(true, &first.alias)),
                    "Tags": name_tag(NAT),
                },
            }),
        );
    }
    t.resource(
        EIP,
        "AWS::EC2::EIP",
        json!({
            "DependsOn": [GATEWAY_ATTACHMENT],
            "Properties": {"Domain": "vpc", "Tags": name_tag(EIP)},
        }),
    );
    t.resource(
        PUBLIC_ROUTE_TABLE,
        "AWS::EC2::RouteTable",
        tagged(PUBLIC_ROUTE_TABLE, json!({"VpcId": vpc_ref}), Vec::new()),
    );
    for (id, destination) in [
        (
            "PublicSubnetDefaultRoute",
            ("DestinationCidrBlock", INTERNET),
        ),
        (
            "PublicSubnetIPv6DefaultRoute",
            ("DestinationIpv6CidrBlock", "::/0"),
        ),
    ] {
        let mut props = json!({"GatewayId": ref_(IGW), "RouteTableId": ref_(PUBLIC_ROUTE_TABLE)});
        props[destination.0] = json!(destination.1);
        t.resource(
            id,
            "AWS::EC2::Route",
            json!({"DependsOn": [GATEWAY_ATTACHMENT], "Properties": props}),
        );
    }
    t.resource(
        EIGW,
        "AWS::EC2::EgressOnlyInternetGateway",
        json!({"Properties": {"VpcId": vpc_ref}}),
    );
    for (i, z) in vpc.zones.iter().enumerate() {
        let id = subnet(t, i, z, true);
        t.resource(
            &format!("RouteTableAssociationPublic{}", z.alias),
            "AWS::EC2::SubnetRouteTableAssociation",
            json!({"Properties": {"RouteTableId": ref_(PUBLIC_ROUTE_TABLE), "SubnetId": ref_(&id)}}),
        );
        let rt = ref_(&format!("PrivateRouteTable{}", z.alias));
        t.resource(
            &format!("PrivateSubnetDefaultIpv6Route{}", z.alias),
            "AWS::EC2::Route",
            json!({"Properties": {
                "DestinationIpv6CidrBlock": "::/0",
                "EgressOnlyInternetGatewayId": ref_(EIGW),
                "RouteTableId": rt,
            }}),
        );
        t.resource(
            &format!("PrivateSubnetDefaultRoute{}", z.alias),
            "AWS::EC2::Route",
            json!({
                "DependsOn": [NAT, GATEWAY_ATTACHMENT],
                "Properties": {
                    "DestinationCidrBlock": INTERNET,
                    "NatGatewayId": ref_(NAT),
                    "RouteTableId": rt,
                },
            }),
        );
    }
    t.output(out::VPC, ref_(VPC), true);
    add_subnet_outputs(t, vpc);
}

/// Adds the VPC, its subnets, gateways and routes, and the VPC and subnet outputs.
pub(crate) fn add_resources(t: &mut Template, vpc: &CreatedVpc) {
    if vpc.ipv6 {
        return add_ipv6_resources(t, vpc);
    }
    let vpc_ref = ref_(VPC);
    add_vpc(t, vpc);
    add_internet_gateway(t);
    t.resource(
        PUBLIC_ROUTE_TABLE,
        "AWS::EC2::RouteTable",
        tagged(PUBLIC_ROUTE_TABLE, json!({"VpcId": vpc_ref}), Vec::new()),
    );
    t.resource(
        "PublicSubnetRoute",
        "AWS::EC2::Route",
        json!({
            "DependsOn": [GATEWAY_ATTACHMENT],
            "Properties": {
                "DestinationCidrBlock": INTERNET,
                "GatewayId": ref_(IGW),
                "RouteTableId": ref_(PUBLIC_ROUTE_TABLE),
            },
        }),
    );
    for z in &vpc.zones {
        let id = format!("SubnetPublic{}", z.alias);
        t.resource(
            &id,
            "AWS::EC2::Subnet",
            tagged(
                &id,
                json!({
                    "AvailabilityZone": z.name,
                    "CidrBlock": z.public_cidr,
                    "MapPublicIpOnLaunch": true,
                    "VpcId": vpc_ref,
                }),
                vec![json!({"Key": "kubernetes.io/role/elb", "Value": "1"})],
            ),
        );
        t.resource(
            &format!("RouteTableAssociationPublic{}", z.alias),
            "AWS::EC2::SubnetRouteTableAssociation",
            json!({"Properties": {"RouteTableId": ref_(PUBLIC_ROUTE_TABLE), "SubnetId": ref_(&id)}}),
        );
    }
    let nat_gateway = |t: &mut Template, suffix: &str, subnet_alias: &str| {
        let eip = format!("NATIP{suffix}");
        let gw = format!("NATGateway{suffix}");
        t.resource(
            &eip,
            "AWS::EC2::EIP",
            tagged(&eip, json!({"Domain": "vpc"}), Vec::new()),
        );
        t.resource(
            &gw,
            "AWS::EC2::NatGateway",
            tagged(
                &gw,
                json!({
                    "AllocationId": get_att(&eip, "AllocationId"),
                    "SubnetId": ref_(&format!("SubnetPublic{subnet_alias}")),
                }),
                Vec::new(),
            ),
        );
        gw
    };
    let single = match (vpc.nat, vpc.zones.first()) {
        (Nat::Single, Some(first)) => Some(nat_gateway(t, "", &first.alias)),
        _ => None,
    };
    for z in &vpc.zones {
        let rt = format!("PrivateRouteTable{}", z.alias);
        t.resource(
            &rt,
            "AWS::EC2::RouteTable",
            tagged(&rt, json!({"VpcId": vpc_ref}), Vec::new()),
        );
        let gateway = match vpc.nat {
            Nat::Single => single.clone(),
            Nat::HighlyAvailable => Some(nat_gateway(t, &z.alias, &z.alias)),
            Nat::Disable => None,
        };
        if let Some(gw) = gateway {
            t.resource(
                &format!("NATPrivateSubnetRoute{}", z.alias),
                "AWS::EC2::Route",
                json!({"Properties": {
                    "DestinationCidrBlock": INTERNET,
                    "NatGatewayId": ref_(&gw),
                    "RouteTableId": ref_(&rt),
                }}),
            );
        }
        let id = format!("SubnetPrivate{}", z.alias);
        t.resource(
            &id,
            "AWS::EC2::Subnet",
            tagged(
                &id,
                json!({"AvailabilityZone": z.name, "CidrBlock": z.private_cidr, "VpcId": vpc_ref}),
                vec![json!({"Key": "kubernetes.io/role/internal-elb", "Value": "1"})],
            ),
        );
        t.resource(
            &format!("RouteTableAssociationPrivate{}", z.alias),
            "AWS::EC2::SubnetRouteTableAssociation",
            json!({"Properties": {"RouteTableId": ref_(&rt), "SubnetId": ref_(&id)}}),
        );
    }

    t.output(out::VPC, ref_(VPC), true);
    let nat = match vpc.nat {
        Nat::Single => "Single",
        Nat::HighlyAvailable => "HighlyAvailable",
        Nat::Disable => "Disable",
    };
    t.output(out::FEATURE_NAT_MODE, json!(nat), false);
    add_subnet_outputs(t, vpc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cidr_is_split_like_eksctl() {
        assert_eq!(
            split("192.168.0.0/16", 6).unwrap(),
            [
                "192.168.0.0/19",
                "192.168.32.0/19",
                "192.168.64.0/19",
                "192.168.96.0/19",
                "192.168.128.0/19",
                "192.168.160.0/19",
                "192.168.192.0/19",
                "192.168.224.0/19"
            ]
        );
        let sixteen = split("10.10.0.0/16", 10).unwrap();
        assert_eq!(sixteen.len(), 16);
        assert_eq!(sixteen[1], "10.10.16.0/20");
        assert_eq!(split("10.0.0.0/24", 4).unwrap()[7], "10.0.0.224/27");
        // Host bits are cleared, as Go's net.ParseCIDR does.
        assert_eq!(split("10.1.2.3/16", 2).unwrap()[0], "10.1.0.0/19");
        assert!(split("10.0.0.0/8", 4).unwrap_err().contains("/16 and /24"));
        assert!(split("10.0.0.0/16", 18).unwrap_err().contains("16 subnets"));
        assert!(split("fd00::/56", 4).is_err());
        assert!(split("10.0.0/16", 4).is_err());
        assert!(split("10.0.0.256/16", 4).is_err());
    }

    #[test]
    fn subnet_host_bits_are_eksctls_desired_mask() {
        // eksctl's own example in `calculateDesiredMask`'s comment: a /20 cut in 6 gives 9 bits.
        assert_eq!(subnet_host_bits(20, 6), 9);
        // The default /16 and three zones: 8 blocks of /19.
        assert_eq!(subnet_host_bits(16, 8), 13);
        assert_eq!(subnet_host_bits(24, 6), 5);
        assert_eq!(subnet_host_bits(16, 0), 16);
    }

    #[test]
    fn zone_aliases_are_eksctls() {
        assert_eq!(zone_alias("us-west-2a"), "USWEST2A");
        assert_eq!(zone_alias("ap-northeast-1d"), "APNORTHEAST1D");
    }
}
