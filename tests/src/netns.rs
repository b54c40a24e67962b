//! Two network namespaces joined by a veth pair: two hosts on one machine,
//! with a cable the test can unplug. Used for partition tests and floods
//! from many source addresses; needs root and iproute2
//! (`.ci/run` installs it). Everything is created with names unique to this
//! process and removed on drop.
//!
//! The addresses (10.231.0.1, 10.231.0.2 and any the test adds to side B
//! in 10.231.0.0/24) exist only inside these namespaces; no traffic leaves
//! the machine.

use std::process::Command;

/// The two sides of the cable.
pub const ADDR_A: &str = "10.231.0.1";
pub const ADDR_B: &str = "10.231.0.2";

/// Namespaces `a` and `b`, linked by veth.
pub struct Link {
    pub a: String,
    pub b: String,
    veth_a: String,
    veth_b: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` ({e}): install iproute2"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Link {
    /// Creates the namespaces and the cable, plugged in. Fails with a clear
    /// message where namespaces cannot be made (not root, no iproute2).
    pub fn create() -> Result<Link, String> {
        let tag = std::process::id() % 1_000_000;
        let link = Link {
            a: format!("cairn{tag}a"),
            b: format!("cairn{tag}b"),
            veth_a: format!("cv{tag}a"),
            veth_b: format!("cv{tag}b"),
        };
        let veth_b = link.veth_b.clone();
        ip(&["netns", "add", &link.a])?;
        ip(&["netns", "add", &link.b])?;
        ip(&[
            "link",
            "add",
            &link.veth_a,
            "type",
            "veth",
            "peer",
            "name",
            &veth_b,
        ])?;
        ip(&["link", "set", &link.veth_a, "netns", &link.a])?;
        ip(&["link", "set", &veth_b, "netns", &link.b])?;
        for (ns, dev, addr) in [(&link.a, &link.veth_a, ADDR_A), (&link.b, &veth_b, ADDR_B)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(link)
    }

    /// Unplugs the cable: nothing crosses until [`Link::heal`].
    pub fn cut(&self) {
        ip(&["-n", &self.a, "link", "set", &self.veth_a, "down"]).expect("link down");
    }

    /// Plugs the cable back in.
    pub fn heal(&self) {
        ip(&["-n", &self.a, "link", "set", &self.veth_a, "up"]).expect("link up");
    }

    /// Gives side B the further addresses `10.231.0.{host}` (secondary: side
    /// B's own connections still leave from [`ADDR_B`] unless a socket binds
    /// to one of them) and returns them.
    pub fn add_b_addresses(&self, hosts: std::ops::Range<u8>) -> Result<Vec<String>, String> {
        hosts
            .map(|h| {
                let addr = format!("10.231.0.{h}");
                assert!(addr != ADDR_A && addr != ADDR_B, "{addr} is taken");
                ip(&[
                    "-n",
                    &self.b,
                    "addr",
                    "add",
                    &format!("{addr}/24"),
                    "dev",
                    &self.veth_b,
                ])?;
                Ok(addr)
            })
            .collect()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Deleting a namespace removes its end of the veth, and with it the other.
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
    }
}

/// Three namespaces in a line, `a` - `b` - `c`: `b` has one cable to each
/// side and forwards nothing, so `a` and `c` cannot reach each other. Nodes
/// in `b` listen on every address and are reached from `a` at
/// [`LINE_B_FROM_A`] and from `c` at [`LINE_B_FROM_C`].
pub struct Line {
    pub a: String,
    pub b: String,
    pub c: String,
    veth_ab: String,
    veth_cb: String,
}

pub const LINE_A: &str = "10.232.1.1";
pub const LINE_B_FROM_A: &str = "10.232.1.2";
pub const LINE_B_FROM_C: &str = "10.232.2.2";
pub const LINE_C: &str = "10.232.2.3";

impl Line {
    /// Creates the namespaces and both cables, plugged in.
    pub fn create() -> Result<Line, String> {
        let tag = std::process::id() % 1_000_000;
        let line = Line {
            a: format!("cairn{tag}la"),
            b: format!("cairn{tag}lb"),
            c: format!("cairn{tag}lc"),
            veth_ab: format!("cl{tag}ab"),
            veth_cb: format!("cl{tag}cb"),
        };
        let (ba, bc) = (format!("cl{tag}ba"), format!("cl{tag}bc"));
        for ns in [&line.a, &line.b, &line.c] {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        for (outer, outer_ns, inner, outer_addr, inner_addr) in [
            (&line.veth_ab, &line.a, &ba, LINE_A, LINE_B_FROM_A),
            (&line.veth_cb, &line.c, &bc, LINE_C, LINE_B_FROM_C),
        ] {
            ip(&["link", "add", outer, "type", "veth", "peer", "name", inner])?;
            ip(&["link", "set", outer, "netns", outer_ns])?;
            ip(&["link", "set", inner, "netns", &line.b])?;
            let outer_cidr = format!("{outer_addr}/24");
            let inner_cidr = format!("{inner_addr}/24");
            ip(&["-n", outer_ns, "addr", "add", &outer_cidr, "dev", outer])?;
            ip(&["-n", &line.b, "addr", "add", &inner_cidr, "dev", inner])?;
            ip(&["-n", outer_ns, "link", "set", outer, "up"])?;
            ip(&["-n", &line.b, "link", "set", inner, "up"])?;
        }
        Ok(line)
    }

    /// Unplugs the `a` - `b` cable.
    pub fn cut_ab(&self) {
        ip(&["-n", &self.a, "link", "set", &self.veth_ab, "down"]).expect("link down");
    }

    /// Plugs the `a` - `b` cable back in.
    pub fn heal_ab(&self) {
        ip(&["-n", &self.a, "link", "set", &self.veth_ab, "up"]).expect("link up");
    }

    /// Unplugs the `c` - `b` cable.
    pub fn cut_cb(&self) {
        ip(&["-n", &self.c, "link", "set", &self.veth_cb, "down"]).expect("link down");
    }

    /// Plugs the `c` - `b` cable back in.
    pub fn heal_cb(&self) {
        ip(&["-n", &self.c, "link", "set", &self.veth_cb, "up"]).expect("link up");
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
        let _ = ip(&["netns", "del", &self.c]);
    }
}
