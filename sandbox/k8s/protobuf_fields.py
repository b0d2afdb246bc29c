"""Protobuf field numbers of the Kubernetes messages kubectl's typed commands send.

Generated from k8s.io/api and k8s.io/apimachinery v0.33 (`generated.proto` for numbers and types,
`types.go` for JSON names): one entry per message, keyed `<package>.<Message>`, each field as
`number:jsonName:type[flags]` (a message's line continues on the indented lines after it).
Types: s string, i integer, b bool, y bytes, d double, t Time, T MicroTime, D Duration,
f FieldsV1, n IntOrString, q Quantity, r RawExtension, @key a message, [X a list of X,
{X a map from strings to X. Flags: ! the zero value is kept (a pointer, or no `omitempty`),
^ the message is inlined into its parent (`json:",inline"`).
"""

FIELDS = """
apps.Deployment 1:metadata:@meta.ObjectMeta 2:spec:@apps.DeploymentSpec
    3:status:@apps.DeploymentStatus
apps.DeploymentCondition 1:type:s! 2:status:s! 6:lastUpdateTime:t 7:lastTransitionTime:t 4:reason:s
    5:message:s
apps.DeploymentSpec 1:replicas:i! 2:selector:@meta.LabelSelector 3:template:@core.PodTemplateSpec
    4:strategy:@apps.DeploymentStrategy 5:minReadySeconds:i 6:revisionHistoryLimit:i! 7:paused:b
    9:progressDeadlineSeconds:i!
apps.DeploymentStatus 1:observedGeneration:i 2:replicas:i 3:updatedReplicas:i 7:readyReplicas:i
    4:availableReplicas:i 5:unavailableReplicas:i 9:terminatingReplicas:i!
    6:conditions:[@apps.DeploymentCondition 8:collisionCount:i!
apps.DeploymentStrategy 1:type:s 2:rollingUpdate:@apps.RollingUpdateDeployment
apps.ReplicaSet 1:metadata:@meta.ObjectMeta 2:spec:@apps.ReplicaSetSpec
    3:status:@apps.ReplicaSetStatus
apps.ReplicaSetCondition 1:type:s! 2:status:s! 3:lastTransitionTime:t 4:reason:s 5:message:s
apps.ReplicaSetSpec 1:replicas:i! 4:minReadySeconds:i 2:selector:@meta.LabelSelector
    3:template:@core.PodTemplateSpec
apps.ReplicaSetStatus 1:replicas:i! 2:fullyLabeledReplicas:i 4:readyReplicas:i
    5:availableReplicas:i 7:terminatingReplicas:i! 3:observedGeneration:i
    6:conditions:[@apps.ReplicaSetCondition
apps.RollingUpdateDeployment 1:maxUnavailable:n 2:maxSurge:n
apps.RollingUpdateStatefulSetStrategy 1:partition:i! 2:maxUnavailable:n
apps.StatefulSet 1:metadata:@meta.ObjectMeta 2:spec:@apps.StatefulSetSpec
    3:status:@apps.StatefulSetStatus
apps.StatefulSetCondition 1:type:s! 2:status:s! 3:lastTransitionTime:t 4:reason:s 5:message:s
apps.StatefulSetOrdinals 1:start:i!
apps.StatefulSetPersistentVolumeClaimRetentionPolicy 1:whenDeleted:s 2:whenScaled:s
apps.StatefulSetSpec 1:replicas:i! 2:selector:@meta.LabelSelector 3:template:@core.PodTemplateSpec
    4:volumeClaimTemplates:[@core.PersistentVolumeClaim 5:serviceName:s! 6:podManagementPolicy:s
    7:updateStrategy:@apps.StatefulSetUpdateStrategy 8:revisionHistoryLimit:i! 9:minReadySeconds:i
    10:persistentVolumeClaimRetentionPolicy:@apps.StatefulSetPersistentVolumeClaimRetentionPolicy
    11:ordinals:@apps.StatefulSetOrdinals
apps.StatefulSetStatus 1:observedGeneration:i 2:replicas:i! 3:readyReplicas:i 4:currentReplicas:i
    5:updatedReplicas:i 6:currentRevision:s 7:updateRevision:s 9:collisionCount:i!
    10:conditions:[@apps.StatefulSetCondition 11:availableReplicas:i!
apps.StatefulSetUpdateStrategy 1:type:s 2:rollingUpdate:@apps.RollingUpdateStatefulSetStrategy
authentication.SelfSubjectReview 1:metadata:@meta.ObjectMeta
    2:status:@authentication.SelfSubjectReviewStatus
authentication.SelfSubjectReviewStatus 1:userInfo:@authentication.UserInfo
authentication.UserInfo 1:username:s 2:uid:s 3:groups:[s 4:extra:{[s
authorization.FieldSelectorAttributes 1:rawSelector:s
    2:requirements:[@meta.FieldSelectorRequirement
authorization.LabelSelectorAttributes 1:rawSelector:s
    2:requirements:[@meta.LabelSelectorRequirement
authorization.LocalSubjectAccessReview 1:metadata:@meta.ObjectMeta
    2:spec:@authorization.SubjectAccessReviewSpec 3:status:@authorization.SubjectAccessReviewStatus
authorization.NonResourceAttributes 1:path:s 2:verb:s
authorization.NonResourceRule 1:verbs:[s 2:nonResourceURLs:[s
authorization.ResourceAttributes 1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s
    6:subresource:s 7:name:s 8:fieldSelector:@authorization.FieldSelectorAttributes
    9:labelSelector:@authorization.LabelSelectorAttributes
authorization.ResourceRule 1:verbs:[s 2:apiGroups:[s 3:resources:[s 4:resourceNames:[s
authorization.SelfSubjectAccessReview 1:metadata:@meta.ObjectMeta
    2:spec:@authorization.SelfSubjectAccessReviewSpec
    3:status:@authorization.SubjectAccessReviewStatus
authorization.SelfSubjectAccessReviewSpec 1:resourceAttributes:@authorization.ResourceAttributes
    2:nonResourceAttributes:@authorization.NonResourceAttributes
authorization.SelfSubjectRulesReview 1:metadata:@meta.ObjectMeta
    2:spec:@authorization.SelfSubjectRulesReviewSpec
    3:status:@authorization.SubjectRulesReviewStatus
authorization.SelfSubjectRulesReviewSpec 1:namespace:s
authorization.SubjectAccessReview 1:metadata:@meta.ObjectMeta
    2:spec:@authorization.SubjectAccessReviewSpec 3:status:@authorization.SubjectAccessReviewStatus
authorization.SubjectAccessReviewSpec 1:resourceAttributes:@authorization.ResourceAttributes
    2:nonResourceAttributes:@authorization.NonResourceAttributes 3:user:s 4:groups:[s 5:extra:{[s
    6:uid:s
authorization.SubjectAccessReviewStatus 1:allowed:b! 4:denied:b 2:reason:s 3:evaluationError:s
authorization.SubjectRulesReviewStatus 1:resourceRules:[@authorization.ResourceRule
    2:nonResourceRules:[@authorization.NonResourceRule 3:incomplete:b! 4:evaluationError:s
autoscaling.Scale 1:metadata:@meta.ObjectMeta 2:spec:@autoscaling.ScaleSpec
    3:status:@autoscaling.ScaleStatus
autoscaling.ScaleSpec 1:replicas:i
autoscaling.ScaleStatus 1:replicas:i! 2:selector:s
batch.CronJob 1:metadata:@meta.ObjectMeta 2:spec:@batch.CronJobSpec 3:status:@batch.CronJobStatus
batch.CronJobSpec 1:schedule:s! 8:timeZone:s! 2:startingDeadlineSeconds:i! 3:concurrencyPolicy:s
    4:suspend:b! 5:jobTemplate:@batch.JobTemplateSpec 6:successfulJobsHistoryLimit:i!
    7:failedJobsHistoryLimit:i!
batch.CronJobStatus 1:active:[@core.ObjectReference 4:lastScheduleTime:t 5:lastSuccessfulTime:t
batch.Job 1:metadata:@meta.ObjectMeta 2:spec:@batch.JobSpec 3:status:@batch.JobStatus
batch.JobCondition 1:type:s! 2:status:s! 3:lastProbeTime:t 4:lastTransitionTime:t 5:reason:s
    6:message:s
batch.JobSpec 1:parallelism:i! 2:completions:i! 3:activeDeadlineSeconds:i!
    11:podFailurePolicy:@batch.PodFailurePolicy 16:successPolicy:@batch.SuccessPolicy
    7:backoffLimit:i! 12:backoffLimitPerIndex:i! 13:maxFailedIndexes:i!
    4:selector:@meta.LabelSelector 5:manualSelector:b! 6:template:@core.PodTemplateSpec
    8:ttlSecondsAfterFinished:i! 9:completionMode:s! 10:suspend:b! 14:podReplacementPolicy:s!
    15:managedBy:s!
batch.JobStatus 1:conditions:[@batch.JobCondition 2:startTime:t 3:completionTime:t 4:active:i
    5:succeeded:i 6:failed:i 11:terminating:i! 7:completedIndexes:s 10:failedIndexes:s!
    8:uncountedTerminatedPods:@batch.UncountedTerminatedPods 9:ready:i!
batch.JobTemplateSpec 1:metadata:@meta.ObjectMeta 2:spec:@batch.JobSpec
batch.PodFailurePolicy 1:rules:[@batch.PodFailurePolicyRule
batch.PodFailurePolicyOnExitCodesRequirement 1:containerName:s! 2:operator:s! 3:values:[i
batch.PodFailurePolicyOnPodConditionsPattern 1:type:s! 2:status:s!
batch.PodFailurePolicyRule 1:action:s! 2:onExitCodes:@batch.PodFailurePolicyOnExitCodesRequirement
    3:onPodConditions:[@batch.PodFailurePolicyOnPodConditionsPattern
batch.SuccessPolicy 1:rules:[@batch.SuccessPolicyRule
batch.SuccessPolicyRule 1:succeededIndexes:s! 2:succeededCount:i!
batch.UncountedTerminatedPods 1:succeeded:[s 2:failed:[s
core.AWSElasticBlockStoreVolumeSource 1:volumeID:s! 2:fsType:s 3:partition:i 4:readOnly:b
core.Affinity 1:nodeAffinity:@core.NodeAffinity 2:podAffinity:@core.PodAffinity
    3:podAntiAffinity:@core.PodAntiAffinity
core.AppArmorProfile 1:type:s! 2:localhostProfile:s!
core.AzureDiskVolumeSource 1:diskName:s! 2:diskURI:s! 3:cachingMode:s! 4:fsType:s! 5:readOnly:b!
    6:kind:s!
core.AzureFileVolumeSource 1:secretName:s! 2:shareName:s! 3:readOnly:b
core.CSIVolumeSource 1:driver:s! 2:readOnly:b! 3:fsType:s! 4:volumeAttributes:{s
    5:nodePublishSecretRef:@core.LocalObjectReference
core.Capabilities 1:add:[s 2:drop:[s
core.CephFSVolumeSource 1:monitors:[s 2:path:s 3:user:s 4:secretFile:s
    5:secretRef:@core.LocalObjectReference 6:readOnly:b
core.CinderVolumeSource 1:volumeID:s! 2:fsType:s 3:readOnly:b
    4:secretRef:@core.LocalObjectReference
core.ClientIPConfig 1:timeoutSeconds:i!
core.ClusterTrustBundleProjection 1:name:s! 2:signerName:s! 3:labelSelector:@meta.LabelSelector
    5:optional:b! 4:path:s!
core.ConfigMap 1:metadata:@meta.ObjectMeta 4:immutable:b! 2:data:{s 3:binaryData:{y
core.ConfigMapEnvSource 1:localObjectReference:@core.LocalObjectReference^ 2:optional:b!
core.ConfigMapKeySelector 1:localObjectReference:@core.LocalObjectReference^ 2:key:s! 3:optional:b!
core.ConfigMapProjection 1:localObjectReference:@core.LocalObjectReference^
    2:items:[@core.KeyToPath 4:optional:b!
core.ConfigMapVolumeSource 1:localObjectReference:@core.LocalObjectReference^
    2:items:[@core.KeyToPath 3:defaultMode:i! 4:optional:b!
core.Container 1:name:s! 2:image:s 3:command:[s 4:args:[s 5:workingDir:s
    6:ports:[@core.ContainerPort 19:envFrom:[@core.EnvFromSource 7:env:[@core.EnvVar
    8:resources:@core.ResourceRequirements 23:resizePolicy:[@core.ContainerResizePolicy
    24:restartPolicy:s! 9:volumeMounts:[@core.VolumeMount 21:volumeDevices:[@core.VolumeDevice
    10:livenessProbe:@core.Probe 11:readinessProbe:@core.Probe 22:startupProbe:@core.Probe
    12:lifecycle:@core.Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s
    14:imagePullPolicy:s 15:securityContext:@core.SecurityContext 16:stdin:b 17:stdinOnce:b
    18:tty:b
core.ContainerPort 1:name:s 2:hostPort:i 3:containerPort:i! 4:protocol:s 5:hostIP:s
core.ContainerResizePolicy 1:resourceName:s! 2:restartPolicy:s!
core.ContainerState 1:waiting:@core.ContainerStateWaiting 2:running:@core.ContainerStateRunning
    3:terminated:@core.ContainerStateTerminated
core.ContainerStateRunning 1:startedAt:t
core.ContainerStateTerminated 1:exitCode:i! 2:signal:i 3:reason:s 4:message:s 5:startedAt:t
    6:finishedAt:t 7:containerID:s
core.ContainerStateWaiting 1:reason:s 2:message:s
core.ContainerStatus 1:name:s! 2:state:@core.ContainerState 3:lastState:@core.ContainerState
    4:ready:b! 5:restartCount:i! 6:image:s! 7:imageID:s! 8:containerID:s 9:started:b!
    10:allocatedResources:{q 11:resources:@core.ResourceRequirements
    12:volumeMounts:[@core.VolumeMountStatus 13:user:@core.ContainerUser
    14:allocatedResourcesStatus:[@core.ResourceStatus 15:stopSignal:s!
core.ContainerUser 1:linux:@core.LinuxContainerUser
core.DownwardAPIProjection 1:items:[@core.DownwardAPIVolumeFile
core.DownwardAPIVolumeFile 1:path:s! 2:fieldRef:@core.ObjectFieldSelector
    3:resourceFieldRef:@core.ResourceFieldSelector 4:mode:i!
core.DownwardAPIVolumeSource 1:items:[@core.DownwardAPIVolumeFile 2:defaultMode:i!
core.EmptyDirVolumeSource 1:medium:s 2:sizeLimit:q
core.EnvFromSource 1:prefix:s 2:configMapRef:@core.ConfigMapEnvSource
    3:secretRef:@core.SecretEnvSource
core.EnvVar 1:name:s! 2:value:s 3:valueFrom:@core.EnvVarSource
core.EnvVarSource 1:fieldRef:@core.ObjectFieldSelector
    2:resourceFieldRef:@core.ResourceFieldSelector 3:configMapKeyRef:@core.ConfigMapKeySelector
    4:secretKeyRef:@core.SecretKeySelector
core.EphemeralContainer 1:ephemeralContainerCommon:@core.EphemeralContainerCommon
    2:targetContainerName:s
core.EphemeralContainerCommon 1:name:s! 2:image:s 3:command:[s 4:args:[s 5:workingDir:s
    6:ports:[@core.ContainerPort 19:envFrom:[@core.EnvFromSource 7:env:[@core.EnvVar
    8:resources:@core.ResourceRequirements 23:resizePolicy:[@core.ContainerResizePolicy
    24:restartPolicy:s! 9:volumeMounts:[@core.VolumeMount 21:volumeDevices:[@core.VolumeDevice
    10:livenessProbe:@core.Probe 11:readinessProbe:@core.Probe 22:startupProbe:@core.Probe
    12:lifecycle:@core.Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s
    14:imagePullPolicy:s 15:securityContext:@core.SecurityContext 16:stdin:b 17:stdinOnce:b
    18:tty:b
core.EphemeralVolumeSource 1:volumeClaimTemplate:@core.PersistentVolumeClaimTemplate
core.ExecAction 1:command:[s
core.FCVolumeSource 1:targetWWNs:[s 2:lun:i! 3:fsType:s 4:readOnly:b 5:wwids:[s
core.FlexVolumeSource 1:driver:s! 2:fsType:s 3:secretRef:@core.LocalObjectReference 4:readOnly:b
    5:options:{s
core.FlockerVolumeSource 1:datasetName:s 2:datasetUUID:s
core.GCEPersistentDiskVolumeSource 1:pdName:s! 2:fsType:s 3:partition:i 4:readOnly:b
core.GRPCAction 1:port:i! 2:service:s!
core.GitRepoVolumeSource 1:repository:s! 2:revision:s 3:directory:s
core.GlusterfsVolumeSource 1:endpoints:s! 2:path:s! 3:readOnly:b
core.HTTPGetAction 1:path:s 2:port:n 3:host:s 4:scheme:s 5:httpHeaders:[@core.HTTPHeader
core.HTTPHeader 1:name:s! 2:value:s!
core.HostAlias 1:ip:s! 2:hostnames:[s
core.HostIP 1:ip:s!
core.HostPathVolumeSource 1:path:s! 2:type:s!
core.ISCSIVolumeSource 1:targetPortal:s! 2:iqn:s! 3:lun:i! 4:iscsiInterface:s 5:fsType:s
    6:readOnly:b 7:portals:[s 8:chapAuthDiscovery:b 11:chapAuthSession:b
    10:secretRef:@core.LocalObjectReference 12:initiatorName:s!
core.ImageVolumeSource 1:reference:s 2:pullPolicy:s
core.KeyToPath 1:key:s! 2:path:s! 3:mode:i!
core.Lifecycle 1:postStart:@core.LifecycleHandler 2:preStop:@core.LifecycleHandler 3:stopSignal:s!
core.LifecycleHandler 1:exec:@core.ExecAction 2:httpGet:@core.HTTPGetAction
    3:tcpSocket:@core.TCPSocketAction 4:sleep:@core.SleepAction
core.LimitRange 1:metadata:@meta.ObjectMeta 2:spec:@core.LimitRangeSpec
core.LimitRangeItem 1:type:s! 2:max:{q 3:min:{q 4:default:{q 5:defaultRequest:{q
    6:maxLimitRequestRatio:{q
core.LimitRangeSpec 1:limits:[@core.LimitRangeItem
core.LinuxContainerUser 1:uid:i! 2:gid:i! 3:supplementalGroups:[i
core.LoadBalancerIngress 1:ip:s 2:hostname:s 3:ipMode:s! 4:ports:[@core.PortStatus
core.LoadBalancerStatus 1:ingress:[@core.LoadBalancerIngress
core.LocalObjectReference 1:name:s
core.ModifyVolumeStatus 1:targetVolumeAttributesClassName:s 2:status:s!
core.NFSVolumeSource 1:server:s! 2:path:s! 3:readOnly:b
core.Namespace 1:metadata:@meta.ObjectMeta 2:spec:@core.NamespaceSpec
    3:status:@core.NamespaceStatus
core.NamespaceCondition 1:type:s! 2:status:s! 4:lastTransitionTime:t 5:reason:s 6:message:s
core.NamespaceSpec 1:finalizers:[s
core.NamespaceStatus 1:phase:s 2:conditions:[@core.NamespaceCondition
core.NodeAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:@core.NodeSelector
    2:preferredDuringSchedulingIgnoredDuringExecution:[@core.PreferredSchedulingTerm
core.NodeSelector 1:nodeSelectorTerms:[@core.NodeSelectorTerm
core.NodeSelectorRequirement 1:key:s! 2:operator:s! 3:values:[s
core.NodeSelectorTerm 1:matchExpressions:[@core.NodeSelectorRequirement
    2:matchFields:[@core.NodeSelectorRequirement
core.ObjectFieldSelector 1:apiVersion:s 2:fieldPath:s!
core.ObjectReference 1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s
    7:fieldPath:s
core.PersistentVolumeClaim 1:metadata:@meta.ObjectMeta 2:spec:@core.PersistentVolumeClaimSpec
    3:status:@core.PersistentVolumeClaimStatus
core.PersistentVolumeClaimCondition 1:type:s! 2:status:s! 3:lastProbeTime:t 4:lastTransitionTime:t
    5:reason:s 6:message:s
core.PersistentVolumeClaimSpec 1:accessModes:[s 4:selector:@meta.LabelSelector
    2:resources:@core.VolumeResourceRequirements 3:volumeName:s 5:storageClassName:s!
    6:volumeMode:s! 7:dataSource:@core.TypedLocalObjectReference
    8:dataSourceRef:@core.TypedObjectReference 9:volumeAttributesClassName:s!
core.PersistentVolumeClaimStatus 1:phase:s 2:accessModes:[s 3:capacity:{q
    4:conditions:[@core.PersistentVolumeClaimCondition 5:allocatedResources:{q
    7:allocatedResourceStatuses:{s 8:currentVolumeAttributesClassName:s!
    9:modifyVolumeStatus:@core.ModifyVolumeStatus
core.PersistentVolumeClaimTemplate 1:metadata:@meta.ObjectMeta
    2:spec:@core.PersistentVolumeClaimSpec
core.PersistentVolumeClaimVolumeSource 1:claimName:s! 2:readOnly:b
core.PhotonPersistentDiskVolumeSource 1:pdID:s! 2:fsType:s
core.Pod 1:metadata:@meta.ObjectMeta 2:spec:@core.PodSpec 3:status:@core.PodStatus
core.PodAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:[@core.PodAffinityTerm
    2:preferredDuringSchedulingIgnoredDuringExecution:[@core.WeightedPodAffinityTerm
core.PodAffinityTerm 1:labelSelector:@meta.LabelSelector 2:namespaces:[s 3:topologyKey:s!
    4:namespaceSelector:@meta.LabelSelector 5:matchLabelKeys:[s 6:mismatchLabelKeys:[s
core.PodAntiAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:[@core.PodAffinityTerm
    2:preferredDuringSchedulingIgnoredDuringExecution:[@core.WeightedPodAffinityTerm
core.PodCondition 1:type:s! 7:observedGeneration:i 2:status:s! 3:lastProbeTime:t
    4:lastTransitionTime:t 5:reason:s 6:message:s
core.PodDNSConfig 1:nameservers:[s 2:searches:[s 3:options:[@core.PodDNSConfigOption
core.PodDNSConfigOption 1:name:s 2:value:s!
core.PodIP 1:ip:s!
core.PodOS 1:name:s!
core.PodReadinessGate 1:conditionType:s!
core.PodResourceClaim 1:name:s! 3:resourceClaimName:s! 4:resourceClaimTemplateName:s!
core.PodResourceClaimStatus 1:name:s! 2:resourceClaimName:s!
core.PodSchedulingGate 1:name:s!
core.PodSecurityContext 1:seLinuxOptions:@core.SELinuxOptions
    8:windowsOptions:@core.WindowsSecurityContextOptions 2:runAsUser:i! 6:runAsGroup:i!
    3:runAsNonRoot:b! 4:supplementalGroups:[i 12:supplementalGroupsPolicy:s! 5:fsGroup:i!
    7:sysctls:[@core.Sysctl 9:fsGroupChangePolicy:s! 10:seccompProfile:@core.SeccompProfile
    11:appArmorProfile:@core.AppArmorProfile 13:seLinuxChangePolicy:s!
core.PodSpec 1:volumes:[@core.Volume 20:initContainers:[@core.Container
    2:containers:[@core.Container 34:ephemeralContainers:[@core.EphemeralContainer
    3:restartPolicy:s 4:terminationGracePeriodSeconds:i! 5:activeDeadlineSeconds:i! 6:dnsPolicy:s
    7:nodeSelector:{s 8:serviceAccountName:s 9:serviceAccount:s 21:automountServiceAccountToken:b!
    10:nodeName:s 11:hostNetwork:b 12:hostPID:b 13:hostIPC:b 27:shareProcessNamespace:b!
    14:securityContext:@core.PodSecurityContext 15:imagePullSecrets:[@core.LocalObjectReference
    16:hostname:s 17:subdomain:s 18:affinity:@core.Affinity 19:schedulerName:s
    22:tolerations:[@core.Toleration 23:hostAliases:[@core.HostAlias 24:priorityClassName:s
    25:priority:i! 26:dnsConfig:@core.PodDNSConfig 28:readinessGates:[@core.PodReadinessGate
    29:runtimeClassName:s! 30:enableServiceLinks:b! 31:preemptionPolicy:s! 32:overhead:{q
    33:topologySpreadConstraints:[@core.TopologySpreadConstraint 35:setHostnameAsFQDN:b!
    36:os:@core.PodOS 37:hostUsers:b! 38:schedulingGates:[@core.PodSchedulingGate
    39:resourceClaims:[@core.PodResourceClaim 40:resources:@core.ResourceRequirements
core.PodStatus 17:observedGeneration:i 1:phase:s 2:conditions:[@core.PodCondition 3:message:s
    4:reason:s 11:nominatedNodeName:s 5:hostIP:s 16:hostIPs:[@core.HostIP 6:podIP:s
    12:podIPs:[@core.PodIP 7:startTime:t 10:initContainerStatuses:[@core.ContainerStatus
    8:containerStatuses:[@core.ContainerStatus 9:qosClass:s
    13:ephemeralContainerStatuses:[@core.ContainerStatus 14:resize:s
    15:resourceClaimStatuses:[@core.PodResourceClaimStatus
core.PodTemplateSpec 1:metadata:@meta.ObjectMeta 2:spec:@core.PodSpec
core.PortStatus 1:port:i! 2:protocol:s! 3:error:s!
core.PortworxVolumeSource 1:volumeID:s! 2:fsType:s 3:readOnly:b
core.PreferredSchedulingTerm 1:weight:i! 2:preference:@core.NodeSelectorTerm
core.Probe 1:handler:@core.ProbeHandler^ 2:initialDelaySeconds:i 3:timeoutSeconds:i
    4:periodSeconds:i 5:successThreshold:i 6:failureThreshold:i 7:terminationGracePeriodSeconds:i!
core.ProbeHandler 1:exec:@core.ExecAction 2:httpGet:@core.HTTPGetAction
    3:tcpSocket:@core.TCPSocketAction 4:grpc:@core.GRPCAction
core.ProjectedVolumeSource 1:sources:[@core.VolumeProjection 2:defaultMode:i!
core.QuobyteVolumeSource 1:registry:s! 2:volume:s! 3:readOnly:b 4:user:s 5:group:s 6:tenant:s
core.RBDVolumeSource 1:monitors:[s 2:image:s! 3:fsType:s 4:pool:s 5:user:s 6:keyring:s
    7:secretRef:@core.LocalObjectReference 8:readOnly:b
core.ResourceClaim 1:name:s! 2:request:s
core.ResourceFieldSelector 1:containerName:s 2:resource:s! 3:divisor:q
core.ResourceHealth 1:resourceID:s! 2:health:s
core.ResourceQuota 1:metadata:@meta.ObjectMeta 2:spec:@core.ResourceQuotaSpec
    3:status:@core.ResourceQuotaStatus
core.ResourceQuotaSpec 1:hard:{q 2:scopes:[s 3:scopeSelector:@core.ScopeSelector
core.ResourceQuotaStatus 1:hard:{q 2:used:{q
core.ResourceRequirements 1:limits:{q 2:requests:{q 3:claims:[@core.ResourceClaim
core.ResourceStatus 1:name:s! 2:resources:[@core.ResourceHealth
core.SELinuxOptions 1:user:s 2:role:s 3:type:s 4:level:s
core.ScaleIOVolumeSource 1:gateway:s! 2:system:s! 3:secretRef:@core.LocalObjectReference
    4:sslEnabled:b 5:protectionDomain:s 6:storagePool:s 7:storageMode:s 8:volumeName:s 9:fsType:s
    10:readOnly:b
core.ScopeSelector 1:matchExpressions:[@core.ScopedResourceSelectorRequirement
core.ScopedResourceSelectorRequirement 1:scopeName:s! 2:operator:s! 3:values:[s
core.SeccompProfile 1:type:s! 2:localhostProfile:s!
core.Secret 1:metadata:@meta.ObjectMeta 5:immutable:b! 2:data:{y 4:stringData:{s 3:type:s
core.SecretEnvSource 1:localObjectReference:@core.LocalObjectReference^ 2:optional:b!
core.SecretKeySelector 1:localObjectReference:@core.LocalObjectReference^ 2:key:s! 3:optional:b!
core.SecretProjection 1:localObjectReference:@core.LocalObjectReference^ 2:items:[@core.KeyToPath
    4:optional:b!
core.SecretVolumeSource 1:secretName:s 2:items:[@core.KeyToPath 3:defaultMode:i! 4:optional:b!
core.SecurityContext 1:capabilities:@core.Capabilities 2:privileged:b!
    3:seLinuxOptions:@core.SELinuxOptions 10:windowsOptions:@core.WindowsSecurityContextOptions
    4:runAsUser:i! 8:runAsGroup:i! 5:runAsNonRoot:b! 6:readOnlyRootFilesystem:b!
    7:allowPrivilegeEscalation:b! 9:procMount:s! 11:seccompProfile:@core.SeccompProfile
    12:appArmorProfile:@core.AppArmorProfile
core.Service 1:metadata:@meta.ObjectMeta 2:spec:@core.ServiceSpec 3:status:@core.ServiceStatus
core.ServiceAccount 1:metadata:@meta.ObjectMeta 2:secrets:[@core.ObjectReference
    3:imagePullSecrets:[@core.LocalObjectReference 4:automountServiceAccountToken:b!
core.ServiceAccountTokenProjection 1:audience:s 2:expirationSeconds:i! 3:path:s!
core.ServicePort 1:name:s 2:protocol:s 6:appProtocol:s! 3:port:i! 4:targetPort:n 5:nodePort:i
core.ServiceSpec 1:ports:[@core.ServicePort 2:selector:{s 3:clusterIP:s 18:clusterIPs:[s 4:type:s
    5:externalIPs:[s 7:sessionAffinity:s 8:loadBalancerIP:s 9:loadBalancerSourceRanges:[s
    10:externalName:s 11:externalTrafficPolicy:s 12:healthCheckNodePort:i
    13:publishNotReadyAddresses:b 14:sessionAffinityConfig:@core.SessionAffinityConfig
    19:ipFamilies:[s 17:ipFamilyPolicy:s! 20:allocateLoadBalancerNodePorts:b!
    21:loadBalancerClass:s! 22:internalTrafficPolicy:s! 23:trafficDistribution:s!
core.ServiceStatus 1:loadBalancer:@core.LoadBalancerStatus 2:conditions:[@meta.Condition
core.SessionAffinityConfig 1:clientIP:@core.ClientIPConfig
core.SleepAction 1:seconds:i!
core.StorageOSVolumeSource 1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:b
    5:secretRef:@core.LocalObjectReference
core.Sysctl 1:name:s! 2:value:s!
core.TCPSocketAction 1:port:n 2:host:s
core.Toleration 1:key:s 2:operator:s 3:value:s 4:effect:s 5:tolerationSeconds:i!
core.TopologySpreadConstraint 1:maxSkew:i! 2:topologyKey:s! 3:whenUnsatisfiable:s!
    4:labelSelector:@meta.LabelSelector 5:minDomains:i! 6:nodeAffinityPolicy:s!
    7:nodeTaintsPolicy:s! 8:matchLabelKeys:[s
core.TypedLocalObjectReference 1:apiGroup:s! 2:kind:s! 3:name:s!
core.TypedObjectReference 1:apiGroup:s! 2:kind:s! 3:name:s! 4:namespace:s!
core.Volume 1:name:s! 2:volumeSource:@core.VolumeSource^
core.VolumeDevice 1:name:s! 2:devicePath:s!
core.VolumeMount 1:name:s! 2:readOnly:b 7:recursiveReadOnly:s! 3:mountPath:s! 4:subPath:s
    5:mountPropagation:s! 6:subPathExpr:s
core.VolumeMountStatus 1:name:s! 2:mountPath:s! 3:readOnly:b 4:recursiveReadOnly:s!
core.VolumeProjection 1:secret:@core.SecretProjection 2:downwardAPI:@core.DownwardAPIProjection
    3:configMap:@core.ConfigMapProjection 4:serviceAccountToken:@core.ServiceAccountTokenProjection
    5:clusterTrustBundle:@core.ClusterTrustBundleProjection
core.VolumeResourceRequirements 1:limits:{q 2:requests:{q
core.VolumeSource 1:hostPath:@core.HostPathVolumeSource 2:emptyDir:@core.EmptyDirVolumeSource
    3:gcePersistentDisk:@core.GCEPersistentDiskVolumeSource
    4:awsElasticBlockStore:@core.AWSElasticBlockStoreVolumeSource
    5:gitRepo:@core.GitRepoVolumeSource 6:secret:@core.SecretVolumeSource
    7:nfs:@core.NFSVolumeSource 8:iscsi:@core.ISCSIVolumeSource
    9:glusterfs:@core.GlusterfsVolumeSource
    10:persistentVolumeClaim:@core.PersistentVolumeClaimVolumeSource 11:rbd:@core.RBDVolumeSource
    12:flexVolume:@core.FlexVolumeSource 13:cinder:@core.CinderVolumeSource
    14:cephfs:@core.CephFSVolumeSource 15:flocker:@core.FlockerVolumeSource
    16:downwardAPI:@core.DownwardAPIVolumeSource 17:fc:@core.FCVolumeSource
    18:azureFile:@core.AzureFileVolumeSource 19:configMap:@core.ConfigMapVolumeSource
    20:vsphereVolume:@core.VsphereVirtualDiskVolumeSource 21:quobyte:@core.QuobyteVolumeSource
    22:azureDisk:@core.AzureDiskVolumeSource
    23:photonPersistentDisk:@core.PhotonPersistentDiskVolumeSource
    26:projected:@core.ProjectedVolumeSource 24:portworxVolume:@core.PortworxVolumeSource
    25:scaleIO:@core.ScaleIOVolumeSource 27:storageos:@core.StorageOSVolumeSource
    28:csi:@core.CSIVolumeSource 29:ephemeral:@core.EphemeralVolumeSource
    30:image:@core.ImageVolumeSource
core.VsphereVirtualDiskVolumeSource 1:volumePath:s! 2:fsType:s 3:storagePolicyName:s
    4:storagePolicyID:s
core.WeightedPodAffinityTerm 1:weight:i! 2:podAffinityTerm:@core.PodAffinityTerm
core.WindowsSecurityContextOptions 1:gmsaCredentialSpecName:s! 2:gmsaCredentialSpec:s!
    3:runAsUserName:s! 4:hostProcess:b!
meta.Condition 1:type:s! 2:status:s! 3:observedGeneration:i 4:lastTransitionTime:t 5:reason:s!
    6:message:s!
meta.DeleteOptions 1:gracePeriodSeconds:i! 2:preconditions:@meta.Preconditions
    3:orphanDependents:b! 4:propagationPolicy:s! 5:dryRun:[s
    6:ignoreStoreReadErrorWithClusterBreakingPotential:b!
meta.FieldSelectorRequirement 1:key:s! 2:operator:s! 3:values:[s
meta.LabelSelector 1:matchLabels:{s 2:matchExpressions:[@meta.LabelSelectorRequirement
meta.LabelSelectorRequirement 1:key:s! 2:operator:s! 3:values:[s
meta.ManagedFieldsEntry 1:manager:s 2:operation:s 3:apiVersion:s 4:time:t 6:fieldsType:s
    7:fieldsV1:f 8:subresource:s
meta.ObjectMeta 1:name:s 2:generateName:s 3:namespace:s 4:selfLink:s 5:uid:s 6:resourceVersion:s
    7:generation:i 8:creationTimestamp:t 9:deletionTimestamp:t 10:deletionGracePeriodSeconds:i!
    11:labels:{s 12:annotations:{s 13:ownerReferences:[@meta.OwnerReference 14:finalizers:[s
    17:managedFields:[@meta.ManagedFieldsEntry
meta.OwnerReference 5:apiVersion:s! 1:kind:s! 3:name:s! 4:uid:s! 6:controller:b!
    7:blockOwnerDeletion:b!
meta.Preconditions 1:uid:s! 2:resourceVersion:s!
networking.IPBlock 1:cidr:s! 2:except:[s
networking.NetworkPolicy 1:metadata:@meta.ObjectMeta 2:spec:@networking.NetworkPolicySpec
networking.NetworkPolicyEgressRule 1:ports:[@networking.NetworkPolicyPort
    2:to:[@networking.NetworkPolicyPeer
networking.NetworkPolicyIngressRule 1:ports:[@networking.NetworkPolicyPort
    2:from:[@networking.NetworkPolicyPeer
networking.NetworkPolicyPeer 1:podSelector:@meta.LabelSelector
    2:namespaceSelector:@meta.LabelSelector 3:ipBlock:@networking.IPBlock
networking.NetworkPolicyPort 1:protocol:s! 2:port:n 3:endPort:i!
networking.NetworkPolicySpec 1:podSelector:@meta.LabelSelector
    2:ingress:[@networking.NetworkPolicyIngressRule 3:egress:[@networking.NetworkPolicyEgressRule
    4:policyTypes:[s
policy.PodDisruptionBudget 1:metadata:@meta.ObjectMeta 2:spec:@policy.PodDisruptionBudgetSpec
    3:status:@policy.PodDisruptionBudgetStatus
policy.PodDisruptionBudgetSpec 1:minAvailable:n 2:selector:@meta.LabelSelector 3:maxUnavailable:n
    4:unhealthyPodEvictionPolicy:s!
policy.PodDisruptionBudgetStatus 1:observedGeneration:i 2:disruptedPods:{t 3:disruptionsAllowed:i!
    4:currentHealthy:i! 5:desiredHealthy:i! 6:expectedPods:i! 7:conditions:[@meta.Condition
rbac.AggregationRule 1:clusterRoleSelectors:[@meta.LabelSelector
rbac.ClusterRole 1:metadata:@meta.ObjectMeta 2:rules:[@rbac.PolicyRule
    3:aggregationRule:@rbac.AggregationRule
rbac.ClusterRoleBinding 1:metadata:@meta.ObjectMeta 2:subjects:[@rbac.Subject
    3:roleRef:@rbac.RoleRef
rbac.PolicyRule 1:verbs:[s 2:apiGroups:[s 3:resources:[s 4:resourceNames:[s 5:nonResourceURLs:[s
rbac.Role 1:metadata:@meta.ObjectMeta 2:rules:[@rbac.PolicyRule
rbac.RoleBinding 1:metadata:@meta.ObjectMeta 2:subjects:[@rbac.Subject 3:roleRef:@rbac.RoleRef
rbac.RoleRef 1:apiGroup:s! 2:kind:s! 3:name:s!
rbac.Subject 1:kind:s! 2:apiGroup:s 3:name:s! 4:namespace:s
"""
