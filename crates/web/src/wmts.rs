//! WMTS 1.0 capabilities for the web tiles: one layer per statistic (its style's legend, the
//! levels and tile ranges that exist) and one tile matrix set, in the structure of the
//! reference's generator, with its bugs fixed: matrix sizes from the tile matrix set (not
//! 2^(z+1) x 2^z), the statistic's folder in the URL template, no `//` in URLs, limits so that
//! clients ask only for tiles that exist.

use iwp_core::config::Config;
use iwp_core::tms::{Bounds, Tms};

use crate::legend::esc;
use std::collections::BTreeMap;

/// Metres per CRS unit: a degree along the equator of the WGS 84 ellipsoid, or 1.
fn meters_per_unit(tms: &Tms) -> f64 {
    if tms.geographic {
        2.0 * std::f64::consts::PI * 6378137.0 / 360.0
    } else {
        1.0
    }
}

/// The CRS URI of the tile matrix set.
fn crs_uri(tms: &Tms) -> String {
    if tms.crs == "OGC:CRS84" {
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84".into()
    } else {
        format!("http://www.opengis.net/def/crs/EPSG/0/{}", tms.epsg)
    }
}

/// The well-known scale set of the tile matrix set, if it has one.
fn well_known_scale_set(tms: &Tms) -> Option<&'static str> {
    match tms.id {
        "WorldCRS84Quad" | "WGS1984Quad" => Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad"),
        "WebMercatorQuad" => Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible"),
        _ => None,
    }
}

/// The first and last column and row of a level's tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Smallest column.
    pub min_col: u32,
    /// Largest column.
    pub max_col: u32,
    /// Smallest row.
    pub min_row: u32,
    /// Largest row.
    pub max_row: u32,
}

/// What the capabilities describe beyond the config.
pub struct Service<'a> {
    /// Where dir_web_tiles is served: URLs are `base/STAT/TMS/{TileMatrix}/...`.
    pub base: &'a str,
    /// The layers' lon/lat extent.
    pub bbox: Bounds,
    /// Per level that has tiles, their columns and rows.
    pub limits: &'a BTreeMap<u8, Limits>,
    /// Per statistic (config order), the value range its colours span at z-max.
    pub ranges: &'a [(f64, f64)],
}

/// The capabilities document.
pub fn capabilities(config: &Config, service: &Service) -> String {
    let tms = config.tms;
    let base = service.base.trim_end_matches('/');
    let (tile_h, tile_w) = (config.tile_size[0], config.tile_size[1]);
    let ext = config.ext_web_tiles.as_str();
    let mime = match ext {
        ".png" => "image/png",
        ".jpg" | ".jpeg" => "image/jpeg",
        ".tif" | ".tiff" => "image/geotiff",
        _ => "application/octet-stream",
    };
    let names = config.layer_names();
    let summary = config
        .summary
        .clone()
        .unwrap_or_else(|| format!("Web tiles of ice-wedge polygon statistics, one layer each: {}.", names.join(", ")));
    let keywords = config.keywords.clone().unwrap_or_else(|| names.iter().map(|n| n.to_string()).collect());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" xmlns:ows=\"http://www.opengis.net/ows/1.1\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:gml=\"http://www.opengis.net/gml\" xsi:schemaLocation=\"http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd\" version=\"1.0.0\">\n");
    x.push_str(&format!(
        "  <ows:ServiceIdentification>\n    <ows:Title>{}</ows:Title>\n    <ows:Abstract>{}</ows:Abstract>\n    <ows:Keywords>\n{}    </ows:Keywords>\n    <ows:ServiceType>OGC WMTS</ows:ServiceType>\n    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>\n  </ows:ServiceIdentification>\n",
        esc(&config.service_title()),
        esc(&summary),
        keywords.iter().map(|k| format!("      <ows:Keyword>{}</ows:Keyword>\n", esc(k))).collect::<String>()
    ));
    if let Some(who) = &config.attribution {
        x.push_str(&format!(
            "  <ows:ServiceProvider>\n    <ows:ProviderName>{}</ows:ProviderName>\n    <ows:ServiceContact/>\n  </ows:ServiceProvider>\n",
            esc(who)
        ));
    }
    x.push_str("  <ows:OperationsMetadata>\n");
    for (op, href) in [("GetCapabilities", format!("{base}/WMTSCapabilities.xml")), ("GetTile", format!("{base}/"))] {
        x.push_str(&format!(
            "    <ows:Operation name=\"{op}\">\n      <ows:DCP>\n        <ows:HTTP>\n          <ows:Get xlink:href=\"{}\">\n            <ows:Constraint name=\"GetEncoding\">\n              <ows:AllowedValues>\n                <ows:Value>RESTful</ows:Value>\n              </ows:AllowedValues>\n            </ows:Constraint>\n          </ows:Get>\n        </ows:HTTP>\n      </ows:DCP>\n    </ows:Operation>\n",
            esc(&href)
        ));
    }
    x.push_str("  </ows:OperationsMetadata>\n  <Contents>\n");
    let limits: String = service
        .limits
        .iter()
        .map(|(z, l)| {
            format!(
                "          <TileMatrixLimits>\n            <TileMatrix>{z}</TileMatrix>\n            <MinTileRow>{}</MinTileRow>\n            <MaxTileRow>{}</MaxTileRow>\n            <MinTileCol>{}</MinTileCol>\n            <MaxTileCol>{}</MaxTileCol>\n          </TileMatrixLimits>\n",
                l.min_row, l.max_row, l.min_col, l.max_col
            )
        })
        .collect();
    let bbox = service.bbox;
    for (stat, range) in config.statistics.iter().zip(service.ranges) {
        let template = format!("{base}/{}/{}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}{ext}", stat.name, tms.id);
        let legend = format!("{base}/{}/legend.svg", stat.name);
        let (legend_w, legend_h) = crate::legend::SIZE;
        x.push_str(&format!(
            "    <Layer>\n      <ows:Title>{name}</ows:Title>\n      <ows:Abstract>{name}: colours from {} to {} (values beyond take the end colours).</ows:Abstract>\n      <ows:WGS84BoundingBox crs=\"urn:ogc:def:crs:OGC:2:84\">\n        <ows:LowerCorner>{} {}</ows:LowerCorner>\n        <ows:UpperCorner>{} {}</ows:UpperCorner>\n      </ows:WGS84BoundingBox>\n      <ows:Identifier>{name}</ows:Identifier>\n      <Style isDefault=\"true\">\n        <ows:Title>{name} from {} to {}</ows:Title>\n        <ows:Identifier>default</ows:Identifier>\n        <LegendURL format=\"image/svg+xml\" width=\"{legend_w}\" height=\"{legend_h}\" xlink:href=\"{}\"/>\n      </Style>\n      <Format>{mime}</Format>\n      <TileMatrixSetLink>\n        <TileMatrixSet>{tms_id}</TileMatrixSet>\n        <TileMatrixSetLimits>\n{limits}        </TileMatrixSetLimits>\n      </TileMatrixSetLink>\n      <ResourceURL format=\"{mime}\" resourceType=\"tile\" template=\"{}\"/>\n    </Layer>\n",
            range.0,
            range.1,
            bbox.left,
            bbox.bottom,
            bbox.right,
            bbox.top,
            range.0,
            range.1,
            esc(&legend),
            esc(&template),
            name = esc(&stat.name),
            tms_id = tms.id,
        ));
    }
    let ext_box = tms.extent();
    let crs = crs_uri(tms);
    x.push_str(&format!(
        "    <TileMatrixSet>\n      <ows:Title>{id}</ows:Title>\n      <ows:Identifier>{id}</ows:Identifier>\n      <ows:BoundingBox crs=\"{crs}\">\n        <ows:LowerCorner>{} {}</ows:LowerCorner>\n        <ows:UpperCorner>{} {}</ows:UpperCorner>\n      </ows:BoundingBox>\n      <ows:SupportedCRS>{crs}</ows:SupportedCRS>\n",
        ext_box.left,
        ext_box.bottom,
        ext_box.right,
        ext_box.top,
        id = tms.id,
    ));
    if let Some(wkss) = well_known_scale_set(tms) {
        x.push_str(&format!("      <WellKnownScaleSet>{wkss}</WellKnownScaleSet>\n"));
    }
    for z in 0..=config.z_max {
        let (w, h) = tms.matrix_size(z);
        let scale = tms.span(z) / f64::from(tile_w) * meters_per_unit(tms) / 0.00028;
        x.push_str(&format!(
            "      <TileMatrix>\n        <ows:Identifier>{z}</ows:Identifier>\n        <ScaleDenominator>{scale}</ScaleDenominator>\n        <TopLeftCorner>{} {}</TopLeftCorner>\n        <TileWidth>{tile_w}</TileWidth>\n        <TileHeight>{tile_h}</TileHeight>\n        <MatrixWidth>{w}</MatrixWidth>\n        <MatrixHeight>{h}</MatrixHeight>\n      </TileMatrix>\n",
            tms.origin.0, tms.origin.1
        ));
    }
    x.push_str("    </TileMatrixSet>\n  </Contents>\n");
    x.push_str(&format!(
        "  <ServiceMetadataURL xlink:href=\"{}\"/>\n</Capabilities>\n",
        esc(&format!("{base}/WMTSCapabilities.xml"))
    ));
    x
}
