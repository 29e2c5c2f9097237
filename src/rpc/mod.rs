//! The tfplugin6 `Provider` service: one method per RPC, each decode →
//! logic → encode. Problems in the user's configuration (or with Azure)
//! travel back as diagnostics; a gRPC error means the protocol itself broke.

mod convert;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use tonic::{Request, Response, Status};

use crate::log;
use crate::pb::tfplugin6 as pb;
use crate::pb::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::tf::activity::{self, Rpc};
use crate::tf::data_source::{DataSource, EphemeralResource};
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::flows;
use crate::tf::provider::{Configure, Provider};
use crate::tf::resource::Resource;
use crate::tf::schema::Schema;
use crate::tf::stop::StopSignal;
use crate::tf::validate::validate;
use crate::tf::value::Value;

use convert::{decode, diagnostics, encode};

type DynResource<D> = Box<dyn Resource<D>>;
type DynDataSource<D> = Box<dyn DataSource<D>>;
type DynEphemeral<D> = Box<dyn EphemeralResource<D>>;

/// A provider as Terraform sees it over gRPC.
pub struct ProviderService<P: Provider> {
    provider: P,
    provider_schema: Schema,
    resources: BTreeMap<&'static str, DynResource<P::Data>>,
    data_sources: BTreeMap<&'static str, DynDataSource<P::Data>>,
    ephemerals: BTreeMap<&'static str, DynEphemeral<P::Data>>,
    /// Set by ConfigureProvider; `None` before, or when the configuration
    /// was still unknown.
    data: RwLock<Option<Arc<P::Data>>>,
    /// Cancels in-flight work on StopProvider. Replaced by a fresh one when
    /// a stopped provider is configured again, which only happens when one
    /// `--debug` process serves several Terraform runs.
    stop: Arc<std::sync::Mutex<StopSignal>>,
    /// Served without TLS (`--debug`): any local process can call it.
    plaintext: bool,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P, stop: StopSignal) -> Self {
        ProviderService {
            provider_schema: provider.schema(),
            resources: provider.resources().into_iter().map(|r| (r.type_name(), r)).collect(),
            data_sources: provider.data_sources().into_iter().map(|d| (d.type_name(), d)).collect(),
            ephemerals: provider.ephemeral_resources().into_iter().map(|e| (e.type_name(), e)).collect(),
            provider,
            data: RwLock::new(None),
            stop: Arc::new(std::sync::Mutex::new(stop)),
            plaintext: false,
        }
    }

    /// Stops whatever stop signal is current when called (a `--debug`
    /// process gets a fresh one for each configuration after a stop), for
    /// SIGTERM to cancel in-flight work.
    pub fn stop_handle(&self) -> impl Fn() + Send + Sync + 'static {
        let stop = self.stop.clone();
        move || stop.lock().unwrap_or_else(|p| p.into_inner()).stop()
    }

    /// Marks the service as reachable without TLS (debug mode), where a
    /// provider configuration may not send the environment's credentials to
    /// endpoints of its choosing.
    pub fn plaintext(mut self, plaintext: bool) -> Self {
        self.plaintext = plaintext;
        self
    }

    fn resource(&self, type_name: &str) -> Result<&DynResource<P::Data>, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error("Unknown resource type", format!("This provider has no resource type {type_name:?}."))
                .into()
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&DynDataSource<P::Data>, Diagnostics> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Diagnostic::error("Unknown data source", format!("This provider has no data source {type_name:?}.")).into()
        })
    }

    fn ephemeral(&self, type_name: &str) -> Result<&DynEphemeral<P::Data>, Diagnostics> {
        self.ephemerals.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown ephemeral resource",
                format!("This provider has no ephemeral resource {type_name:?}."),
            )
            .into()
        })
    }

    /// The stop signal for a newly configured provider.
    fn fresh_stop(&self) -> StopSignal {
        let mut stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        if stop.is_stopped() {
            *stop = StopSignal::new();
        }
        stop.clone()
    }

    fn data(&self) -> Option<Arc<P::Data>> {
        self.data.read().ok().and_then(|d| d.clone())
    }

    /// The configured provider, or the diagnostic explaining why there is none.
    /// Counts an RPC of the configured provider as in flight while the
    /// guard lives (nothing before configuration).
    fn busy<'a>(&self, data: Option<&'a P::Data>, rpc: Rpc) -> Option<activity::Guard<'a>> {
        data.and_then(|d| self.provider.activity(d)).map(|a| a.start(rpc))
    }

    fn configured(&self) -> Result<Arc<P::Data>, Diagnostics> {
        self.data().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The provider's configuration was unknown when this operation ran (it depends on values \
                 known only after apply). Apply the resources it depends on first, e.g. with -target.",
            )
            .into()
        })
    }
}

/// Decodes a configuration of `schema`'s type and validates it.
fn decode_and_validate(
    dv: Option<&pb::DynamicValue>,
    schema: &Schema,
    rules: impl Fn(&Value) -> Diagnostics,
) -> Diagnostics {
    match decode(dv, &schema.value_type(), "configuration") {
        Ok(config) => flows::validate_config(schema, rules, &config),
        Err(d) => d.into(),
    }
}

fn ok<T>(t: T) -> Result<Response<T>, Status> {
    Ok(Response::new(t))
}

#[tonic::async_trait]
impl<P: Provider> ProviderRpc for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        ok(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata { type_name: t.to_string() })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata { type_name: t.to_string() })
                .collect(),
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|t| pb::get_metadata::EphemeralResourceMetadata { type_name: t.to_string() })
                .collect(),
            ..Default::default()
        })
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        ok(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(t, r)| (t.to_string(), convert::schema(r.schema())))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(t, d)| (t.to_string(), convert::schema(d.schema())))
                .collect(),
            // Terraform before 1.10 skips this field: it never sees them.
            ephemeral_resource_schemas: self
                .ephemerals
                .iter()
                .map(|(t, e)| (t.to_string(), convert::schema(e.schema())))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        })
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let diags = match decode(req.config.as_ref(), &self.provider_schema.value_type(), "provider configuration") {
            Err(d) => d.into(),
            Ok(config) => {
                let mut diags = Diagnostics::new();
                validate(&self.provider_schema.block, &config, &AttributePath::default(), &mut diags);
                diags
            }
        };
        ok(pb::validate_provider_config::Response { diagnostics: diagnostics(&diags) })
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diags = match self.resource(&req.type_name) {
            Ok(r) => decode_and_validate(req.config.as_ref(), r.schema(), |c| r.validate(c)),
            Err(diags) => diags,
        };
        log::debug!("validated resource configuration", type_name = req.type_name, diagnostics = diags.0.len());
        ok(pb::validate_resource_config::Response { diagnostics: diagnostics(&diags) })
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diags = match self.data_source(&req.type_name) {
            Ok(d) => decode_and_validate(req.config.as_ref(), d.schema(), |c| d.validate(c)),
            Err(diags) => diags,
        };
        ok(pb::validate_data_resource_config::Response { diagnostics: diagnostics(&diags) })
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("ReadDataSource", &req.type_name, async {
            let d = self.data_source(&req.type_name)?;
            let ty = d.schema().value_type();
            let config = decode(req.config.as_ref(), &ty, "configuration")?;
            let data = self.data();
            let _busy = self.busy(data.as_deref(), Rpc::Other);
            let value = d.read(data.as_deref(), &config).await?;
            Ok::<_, Diagnostics>(encode(&value, &ty)?)
        })
        .await;
        log::debug!("read data source", type_name = req.type_name, ok = result.is_ok());
        ok(match result {
            Ok(v) => pb::read_data_source::Response { state: Some(v), ..Default::default() },
            Err(d) => pb::read_data_source::Response { diagnostics: diagnostics(&d), ..Default::default() },
        })
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diags = match self.ephemeral(&req.type_name) {
            Ok(e) => decode_and_validate(req.config.as_ref(), e.schema(), |c| e.validate(c)),
            Err(diags) => diags,
        };
        ok(pb::validate_ephemeral_resource_config::Response { diagnostics: diagnostics(&diags) })
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("OpenEphemeralResource", &req.type_name, async {
            let e = self.ephemeral(&req.type_name)?;
            let ty = e.schema().value_type();
            let config = decode(req.config.as_ref(), &ty, "configuration")?;
            let data = self.configured()?;
            let _busy = self.busy(Some(&data), Rpc::Other);
            let opened = e.open(&data, &config).await?;
            Ok::<_, Diagnostics>((encode(&opened.result, &ty)?, opened.private))
        })
        .await;
        // The result is never logged: it holds credentials.
        log::debug!("opened ephemeral resource", type_name = req.type_name, ok = result.is_ok());
        ok(match result {
            Ok((v, private)) => {
                pb::open_ephemeral_resource::Response { result: Some(v), private, ..Default::default() }
            }
            Err(d) => pb::open_ephemeral_resource::Response { diagnostics: diagnostics(&d), ..Default::default() },
        })
    }

    /// Never asked for: no open sets `renew_at`.
    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        ok(pb::renew_ephemeral_resource::Response { private: req.private, ..Default::default() })
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let diags = match (self.ephemeral(&req.type_name), self.data(), req.private.as_deref()) {
            (Err(d), _, _) => d,
            (Ok(e), Some(data), Some(private)) => e.close(&data, private).await,
            _ => Diagnostics::new(),
        };
        ok(pb::close_ephemeral_resource::Response { diagnostics: diagnostics(&diags) })
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let result = (|| -> Result<pb::DynamicValue, Diagnostics> {
            let r = self.resource(&req.type_name)?;
            let raw = req.raw_state.unwrap_or_default();
            let value = flows::upgrade_state(r.as_ref(), req.version, &raw.json)?;
            Ok(encode(&value, &r.schema().value_type())?)
        })();
        ok(match result {
            Ok(v) => pb::upgrade_resource_state::Response { upgraded_state: Some(v), diagnostics: vec![] },
            Err(d) => pb::upgrade_resource_state::Response { upgraded_state: None, diagnostics: diagnostics(&d) },
        })
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let result = (|| -> Result<Option<P::Data>, Diagnostics> {
            let config = decode(req.config.as_ref(), &self.provider_schema.value_type(), "provider configuration")?;
            if config.contains_unknown() {
                return Ok(None);
            }
            let how = Configure { stop: self.fresh_stop(), plaintext: self.plaintext };
            self.provider.configure(&config, &how).map(Some)
        })();
        let diags = match result {
            Ok(data) => {
                log::info!(
                    "configured provider",
                    terraform_version = req.terraform_version,
                    configuration_unknown = data.is_none()
                );
                if let Ok(mut slot) = self.data.write() {
                    *slot = data.map(Arc::new);
                }
                Diagnostics::new()
            }
            Err(d) => d,
        };
        ok(pb::configure_provider::Response { diagnostics: diagnostics(&diags) })
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("ReadResource", &req.type_name, async {
            let r = self.resource(&req.type_name)?;
            let ty = r.schema().value_type();
            let state = decode(req.current_state.as_ref(), &ty, "state")?;
            let data = self.configured()?;
            let _busy = self.busy(Some(&data), Rpc::Other);
            let new_state = flows::read(r.as_ref(), &data, &state).await?;
            Ok::<_, Diagnostics>(encode(&new_state, &ty)?)
        })
        .await;
        ok(match result {
            Ok(v) => pb::read_resource::Response { new_state: Some(v), private: req.private, ..Default::default() },
            Err(d) => pb::read_resource::Response {
                new_state: req.current_state,
                diagnostics: diagnostics(&d),
                ..Default::default()
            },
        })
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("PlanResourceChange", &req.type_name, async {
            let r = self.resource(&req.type_name)?;
            let ty = r.schema().value_type();
            let prior = decode(req.prior_state.as_ref(), &ty, "prior state")?;
            let proposed = decode(req.proposed_new_state.as_ref(), &ty, "proposed state")?;
            let config = decode(req.config.as_ref(), &ty, "configuration")?;
            let data = self.data();
            let _busy = self.busy(data.as_deref(), Rpc::Other);
            let planned = flows::plan(r.as_ref(), data.as_deref(), &prior, &proposed, &config).await?;
            Ok((encode(&planned.state, &ty)?, planned.requires_replace, planned.diagnostics))
        })
        .await;
        ok(match result {
            Ok((planned, replace, diags)) => pb::plan_resource_change::Response {
                planned_state: Some(planned),
                requires_replace: replace.iter().map(convert::path).collect(),
                planned_private: req.prior_private,
                diagnostics: diagnostics(&diags),
                ..Default::default()
            },
            Err(d) => pb::plan_resource_change::Response { diagnostics: diagnostics(&d), ..Default::default() },
        })
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("ApplyResourceChange", &req.type_name, async {
            let r = self.resource(&req.type_name)?;
            let ty = r.schema().value_type();
            let prior = decode(req.prior_state.as_ref(), &ty, "prior state")?;
            let planned = decode(req.planned_state.as_ref(), &ty, "planned state")?;
            let config = decode(req.config.as_ref(), &ty, "configuration")?;
            let data = self.configured()?;
            let _busy = self.busy(Some(&data), Rpc::Apply);
            let outcome = flows::apply(r.as_ref(), &data, &prior, &planned, &config).await;
            Ok::<_, Diagnostics>((encode(&outcome.state, &ty)?, outcome.diagnostics))
        })
        .await;
        ok(match result {
            Ok((state, diags)) => pb::apply_resource_change::Response {
                new_state: Some(state),
                private: req.planned_private,
                diagnostics: diagnostics(&diags),
                legacy_type_system: false,
            },
            Err(d) => pb::apply_resource_change::Response {
                new_state: req.prior_state,
                diagnostics: diagnostics(&d),
                ..Default::default()
            },
        })
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let result = log::in_rpc("ImportResourceState", &req.type_name, async {
            let r = self.resource(&req.type_name)?;
            let data = self.configured()?;
            let state = flows::import(r.as_ref(), &data, &req.id).await?;
            Ok::<_, Diagnostics>(encode(&state, &r.schema().value_type())?)
        })
        .await;
        ok(match result {
            Ok(state) => pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name,
                    state: Some(state),
                    private: Vec::new(),
                }],
                ..Default::default()
            },
            Err(d) => pb::import_resource_state::Response { diagnostics: diagnostics(&d), ..Default::default() },
        })
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        ok(pb::get_functions::Response { functions: HashMap::new(), diagnostics: vec![] })
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        log::info!("stop requested: cancelling in-flight operations");
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).stop();
        ok(pb::stop_provider::Response { error: String::new() })
    }
}

/// `get_provider_schema_optional`: every RPC here works without a prior
/// GetProviderSchema (the schemas are built in), so Terraform (1.6+) may
/// skip asking each of the several processes it starts for one run.
fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false }
}
